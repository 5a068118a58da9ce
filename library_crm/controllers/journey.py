# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..models.res_partner import CONSENT_FIELDS


class LibraryJourneyController(http.Controller):
    @http.route(
        "/library/opt-out/<int:partner_id>/<string:purpose>/<string:token>",
        type="http",
        auth="public",
        website=True,
        methods=["GET", "POST"],
        csrf=False,  # the signed link is the authorisation (one-click List-Unsubscribe)
    )
    def library_opt_out(self, partner_id, purpose, token, **post):
        """The opt-out link of a journey message: GET asks (link scanners
        must not opt readers out), POST opts the reader out of the purpose."""
        Journey = request.env["library.journey"].sudo()
        if purpose not in CONSENT_FIELDS or not Journey._check_opt_out_token(
            partner_id, purpose, token
        ):
            raise NotFound()
        reader = request.env["res.partner"].sudo().browse(partner_id).exists()
        if not reader.is_reader:
            raise NotFound()
        labels = dict(Journey._fields["purpose"]._description_selection(request.env))
        if request.httprequest.method == "POST":
            reader._library_set_consent({purpose: False}, "unsubscribe")
            return request.render(
                "library_crm.portal_consent_opted_out", {"purpose": labels[purpose]}
            )
        return request.render(
            "library_crm.journey_opt_out_confirm",
            {"purpose": labels[purpose], "action": request.httprequest.path},
        )
