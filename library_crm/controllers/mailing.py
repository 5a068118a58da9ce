# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.http import request

from odoo.addons.mass_mailing.controllers.main import MassMailController


class LibraryMassMailController(MassMailController):
    """The unsubscribe link of a library mailing opts the reader out of the
    mailing's purpose only, instead of blocking every e-mail."""

    def _mailing_unsubscribe_from_document(self, mailing, document_id, email, hash_token):
        reader = self._library_reader(mailing, document_id)
        if not reader:
            return super()._mailing_unsubscribe_from_document(
                mailing, document_id, email, hash_token
            )
        self._library_opt_out(reader, mailing)
        return self._library_render_opted_out(mailing)

    def _mailing_unsubscribe_from_list(self, mailing, document_id, email, hash_token):
        readers = (
            request.env["res.partner"]
            .sudo()
            .search([("is_reader", "=", True), ("email_normalized", "=", email)])
        )
        if readers:
            self._library_opt_out(readers, mailing)
        return super()._mailing_unsubscribe_from_list(mailing, document_id, email, hash_token)

    def _library_reader(self, mailing, document_id):
        if mailing.mailing_model_real != "res.partner" or not document_id:
            return request.env["res.partner"]
        reader = request.env["res.partner"].sudo().browse(int(document_id)).exists()
        return reader if reader.is_reader else reader.browse()

    def _library_opt_out(self, readers, mailing):
        readers._library_set_consent({mailing.library_purpose or "news": False}, "unsubscribe")

    def _library_render_opted_out(self, mailing):
        purposes = dict(mailing._fields["library_purpose"]._description_selection(request.env))
        return request.render(
            "library_crm.portal_consent_opted_out",
            {"purpose": purposes[mailing.library_purpose or "news"]},
        )
