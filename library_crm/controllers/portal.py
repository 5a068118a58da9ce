# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools import plaintext2html

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.library_liaison_review import SCORE_FIELDS


class LibraryCrmPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "liaison_review_count" in counters:
            Review = request.env["library.liaison.review"]
            values["liaison_review_count"] = (
                Review.search_count([]) if Review.has_access("read") else 0
            )
        return values

    @http.route("/my/library-usage", type="http", auth="user", website=True)
    def portal_my_library_usage(self, **kwargs):
        """The reader's own usage summary: read with sudo, for their partner only."""
        partner = request.env.user.partner_id.commercial_partner_id.sudo()
        since = fields.Datetime.now() - timedelta(days=365)
        kinds = dict(
            request.env["library.usage"]._fields["kind"]._description_selection(request.env)
        )
        usage = (
            request.env["library.usage"]
            .sudo()
            ._read_group(
                [("partner_id", "=", partner.id), ("occurred_at", ">=", since)],
                ["kind"],
                ["quantity:sum"],
                order="quantity:sum desc",
            )
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "reader": partner,
                "usage": [(kinds.get(kind, kind), quantity) for kind, quantity in usage],
                "page_name": "library_usage",
            }
        )
        return request.render("library_crm.portal_my_library_usage", values)

    @http.route("/my/liaison-reviews", type="http", auth="user", website=True)
    def portal_my_liaison_reviews(self, **kwargs):
        Review = request.env["library.liaison.review"]
        reviews = Review.search([]) if Review.has_access("read") else Review
        values = self._prepare_portal_layout_values()
        values.update({"reviews": reviews, "page_name": "liaison_reviews"})
        return request.render("library_crm.portal_my_liaison_reviews", values)

    @http.route(
        "/my/liaison-reviews/<int:review_id>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_liaison_review(self, review_id, access_token=None, **post):
        try:
            review = self._document_check_access("library.liaison.review", review_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        errors, typed = {}, {}
        if request.httprequest.method == "POST":
            if review.state != "sent":
                return request.redirect(review.get_portal_url())
            typed, values, errors = self._parse_review_form(post)
            if not errors:
                review._submit(values)
                review.message_post(
                    body=request.env._("The department submitted its review."),
                    author_id=request.env.user.partner_id.id
                    if not request.env.user._is_public()
                    else review.contact_partner_id.id,
                    subtype_xmlid="mail.mt_note",
                )
                return request.redirect(review.get_portal_url(query_string="&submitted=1"))
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "review": review,
                "errors": errors,
                "typed": typed,
                "access_token": access_token,
                "submitted": post.get("submitted"),
                "page_name": "liaison_review",
            }
        )
        return request.render("library_crm.portal_liaison_review", values)

    def _parse_review_form(self, post):
        """Return what the contact typed, the values to store, and the errors
        by field; nothing typed is lost when the form comes back."""
        typed = {name: (post.get(name) or "").strip() for name in (*SCORE_FIELDS, "summary")}
        typed["department_comment"] = (post.get("department_comment") or "").strip()
        errors = {}
        values = {}
        for name in SCORE_FIELDS:
            score = typed[name]
            if not score.isdigit() or not 1 <= int(score) <= 5:
                errors[name] = request.env._("Choose a score from 1 to 5.")
            else:
                values[name] = int(score)
        if not typed["summary"]:
            errors["summary"] = request.env._("Write the department's summary.")
        values["summary"] = plaintext2html(typed["summary"])
        values["department_comment"] = typed["department_comment"]
        return typed, values, errors
