# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import BadRequest, NotFound

from odoo import http
from odoo.http import request

# A comment is a few lines, not a document.
FEEDBACK_MAX_CHARS = 2000


class LibraryServiceRatingController(http.Controller):
    @http.route(
        "/library/service/rate/<string:token>",
        type="http",
        auth="public",
        website=True,
        methods=["GET", "POST"],
    )
    def library_service_rate(self, token, rate=None, feedback=None, **post):
        """The reader's rating of a service, from the link of their e-mail:
        the token is the only authorisation, whoever is logged in. GET shows
        the question (link scanners rate nothing), POST rates."""
        rating = (
            request.env["rating.rating"]
            .sudo()
            .search(
                [("access_token", "=", token), ("res_model", "=", "library.interaction")],
                limit=1,
            )
        )
        interaction = (
            request.env["library.interaction"].sudo().browse(rating.res_id).exists()
            if rating
            else None
        )
        if not interaction or interaction.partner_id != rating.partner_id:
            raise NotFound()
        value = int(rate) if rate and str(rate).isdigit() else 0
        if request.httprequest.method == "POST":
            if value not in (1, 2, 3, 4, 5):
                raise BadRequest()
            comment = (feedback or "").replace("\x00", "").strip()[:FEEDBACK_MAX_CHARS]
            interaction.rating_apply(value, token=token, feedback=comment or None)
            return request.render("library_crm.service_rating_done", {"rate": value})
        kinds = dict(interaction._fields["kind"]._description_selection(request.env))
        return request.render(
            "library_crm.service_rating_form",
            {
                "interaction": interaction,
                "kind": kinds.get(interaction.kind, ""),
                "rate": value,
                "action": request.httprequest.path,
            },
        )
