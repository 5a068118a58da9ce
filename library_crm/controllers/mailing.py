# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import BadRequest

from odoo import tools
from odoo.http import request

from odoo.addons.mass_mailing.controllers.main import MassMailController


class LibraryMassMailController(MassMailController):
    """The unsubscribe link of a library mailing opts the reader out of the
    mailing's purpose only, instead of blocking every e-mail."""

    def _check_mailing_email_token(
        self, mailing_id, document_id, email, hash_token, required_mailing_id=False
    ):
        # A recipient is a record id: anything else is a malformed link (400),
        # not a server error.
        if document_id and not str(document_id).isdigit():
            raise BadRequest()
        return super()._check_mailing_email_token(
            mailing_id, document_id, email, hash_token, required_mailing_id=required_mailing_id
        )

    def _mailing_unsubscribe_from_document(self, mailing, document_id, email, hash_token):
        readers = self._library_readers(mailing, document_id, email, hash_token)
        if not readers:
            return super()._mailing_unsubscribe_from_document(
                mailing, document_id, email, hash_token
            )
        self._library_opt_out(readers, mailing)
        return self._library_render_opted_out(mailing)

    def _mailing_unsubscribe_from_list(self, mailing, document_id, email, hash_token):
        readers = self._library_readers_of_email(email)
        if readers:
            self._library_opt_out(readers, mailing)
        return super()._mailing_unsubscribe_from_list(mailing, document_id, email, hash_token)

    def _library_readers(self, mailing, document_id, email, hash_token):
        """The readers the unsubscribe acts on. With the link's token, the
        recipient it was signed for. Without a token (a logged-in Email
        Marketing user, see _fetch_user_information), `email` is the user's
        own address and `document_id` proves nothing: only readers with that
        address."""
        Partner = request.env["res.partner"].sudo()
        if mailing.mailing_model_real != "res.partner":
            return Partner
        if not hash_token:
            return self._library_readers_of_email(email)
        if not document_id:
            return Partner
        reader = Partner.browse(int(document_id)).exists()
        return reader if reader.is_reader else Partner

    def _library_readers_of_email(self, email):
        email_normalized = tools.email_normalize(email)
        if not email_normalized:
            return request.env["res.partner"].sudo()
        return (
            request.env["res.partner"]
            .sudo()
            .search([("is_reader", "=", True), ("email_normalized", "=", email_normalized)])
        )

    def _library_opt_out(self, readers, mailing):
        readers._library_set_consent({mailing.library_purpose or "news": False}, "unsubscribe")

    def _library_render_opted_out(self, mailing):
        purposes = dict(mailing._fields["library_purpose"]._description_selection(request.env))
        return request.render(
            "library_crm.portal_consent_opted_out",
            {"purpose": purposes[mailing.library_purpose or "news"]},
        )
