# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools import plaintext2html

from odoo.addons.mail.controllers.attachment import AttachmentController
from odoo.addons.mail.tools.discuss import add_guest_to_context
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.library_liaison_review import SCORE_FIELDS
from ..models.library_suggestion_attachment import (
    ATTACHMENT_EXTENSIONS,
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_MAX_FILES,
    attachment_error,
)
from ..models.res_partner import CONSENT_FIELDS
from ..wizards.import_columns import is_digits


def _form_text(post, name):
    """A form field as stripped text; NUL characters, which PostgreSQL text
    cannot hold, are dropped."""
    return (post.get(name) or "").replace("\x00", "").strip()


def _read_only_unless_just_created(_controller, _rule, _args):
    """A read-only route (served by a read replica when there is one), except
    the page a reader lands on right after submitting (``?created=1``): it
    reads the primary, so it shows what they just wrote even when the
    replica is a moment behind."""
    return not request.httprequest.args.get("created")


class LibraryCrmPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "liaison_review_count" in counters:
            Review = request.env["library.liaison.review"]
            values["liaison_review_count"] = (
                Review.search_count([]) if Review.has_access("read") else 0
            )
        if "reading_report_count" in counters:
            Report = request.env["library.reading.report"]
            values["reading_report_count"] = (
                Report.search_count(self._reading_report_domain())
                if Report.has_access("read")
                else 0
            )
        if "suggestion_count" in counters:
            Suggestion = request.env["library.suggestion"]
            values["suggestion_count"] = (
                Suggestion.search_count([]) if Suggestion.has_access("read") else 0
            )
        return values

    # ------------------------------------------------------------------
    # Suggestions
    # ------------------------------------------------------------------

    @http.route(
        ["/my/suggestions", "/my/suggestions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_suggestions(self, page=1, **kwargs):
        Suggestion = request.env["library.suggestion"]
        domain = [("partner_id", "=", request.env.user.partner_id.id)]
        count = Suggestion.search_count(domain)
        pager = portal_pager(
            url="/my/suggestions", total=count, page=page, step=self._items_per_page
        )
        suggestions = Suggestion.search(domain, limit=self._items_per_page, offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "suggestions": suggestions,
                "pager": pager,
                "page_name": "suggestions",
                "default_url": "/my/suggestions",
            }
        )
        return request.render("library_crm.portal_my_suggestions", values)

    @http.route(
        "/my/suggestions/<int:suggestion_id>",
        type="http",
        auth="public",
        website=True,
        readonly=_read_only_unless_just_created,
    )
    def portal_my_suggestion(self, suggestion_id, access_token=None, **kwargs):
        try:
            suggestion = self._document_check_access(
                "library.suggestion", suggestion_id, access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        # The rating link is the reader's: shown to them signed in, never to
        # whoever holds the document's link (staff can read it).
        rating_token = (
            suggestion.sudo()._rating_get_access_token()
            if suggestion.reader_state in ("done", "closed")
            and suggestion.partner_id
            and suggestion.sudo().partner_id == request.env.user.partner_id
            and not suggestion.rating_last_value
            else None
        )
        values = self._get_page_view_values(
            suggestion,
            access_token,
            {
                "suggestion": suggestion,
                "rating_token": rating_token,
                "created": kwargs.get("created"),
                "page_name": "suggestion",
            },
            "my_suggestions_history",
            False,
        )
        return request.render("library_crm.portal_my_suggestion", values)

    @http.route(
        "/my/suggestions/new", type="http", auth="user", methods=["GET", "POST"], website=True
    )
    def portal_new_suggestion(self, **post):
        categories = request.env["library.suggestion.category"].sudo().search([])
        errors, typed = {}, {}
        if request.httprequest.method == "POST":
            typed, values, files, errors = self._parse_suggestion_form(post, categories)
            if not errors:
                partner = request.env.user.partner_id
                suggestion = (
                    request.env["library.suggestion"]
                    .sudo()
                    .create({**values, "partner_id": partner.id, "channel": "portal"})
                )
                if files:
                    attachments = (
                        request.env["ir.attachment"]
                        .sudo()
                        .create(
                            [
                                {
                                    "name": name,
                                    "raw": content,
                                    "res_model": suggestion._name,
                                    "res_id": suggestion.id,
                                }
                                for name, content in files
                            ]
                        )
                    )
                    suggestion.message_post(
                        body=request.env._("Attachments from the reader."),
                        attachment_ids=attachments.ids,
                        author_id=partner.id,
                        subtype_xmlid="mail.mt_note",
                    )
                return request.redirect(f"/my/suggestions/{suggestion.id}?created=1")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "categories": categories,
                "errors": errors,
                "typed": typed,
                "page_name": "new_suggestion",
                "max_mb": ATTACHMENT_MAX_BYTES // (1024 * 1024),
                "max_files": ATTACHMENT_MAX_FILES,
                "extensions": ", ".join(ATTACHMENT_EXTENSIONS),
            }
        )
        return request.render("library_crm.portal_new_suggestion", values)

    def _parse_suggestion_form(self, post, categories):
        """What the reader typed (kept when the form comes back), the values
        to store, the files and the errors by field."""
        typed = {
            name: _form_text(post, name) for name in ("category_id", "subject", "description")
        }
        errors = {}
        # is_digits, not str.isdigit(): int("²") raises.
        category_id = int(typed["category_id"]) if is_digits(typed["category_id"], 9) else 0
        if category_id not in categories.ids:
            errors["category_id"] = request.env._("Choose what your suggestion is about.")
        if not typed["subject"]:
            errors["subject"] = request.env._("Give your suggestion a short title.")
        elif len(typed["subject"]) > 200:
            errors["subject"] = request.env._("Keep the title under 200 characters.")
        if not typed["description"]:
            errors["description"] = request.env._("Describe your suggestion.")
        files = []
        uploads = [f for f in request.httprequest.files.getlist("attachments") if f.filename]
        if len(uploads) > ATTACHMENT_MAX_FILES:
            errors["attachments"] = request.env._(
                "Attach at most %(count)s files.", count=ATTACHMENT_MAX_FILES
            )
        for upload in uploads[:ATTACHMENT_MAX_FILES]:
            content = upload.read(ATTACHMENT_MAX_BYTES + 1)
            if error := attachment_error(request.env, upload.filename, content):
                errors["attachments"] = error
            else:
                files.append((upload.filename, content))
        values = {
            "category_id": category_id,
            "subject": typed["subject"],
            "description": plaintext2html(typed["description"]),
        }
        return typed, values, files, errors

    # ------------------------------------------------------------------
    # Points and the public "You said, we did" page
    # ------------------------------------------------------------------

    @http.route("/my/points", type="http", auth="user", website=True, readonly=True)
    def portal_my_points(self, **kwargs):
        partner = request.env.user.partner_id
        transactions = request.env["library.points.transaction"].search(
            [("partner_id", "=", partner.id)]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "transactions": transactions,
                "balance": sum(transactions.mapped("points")),
                "page_name": "points",
            }
        )
        return request.render("library_crm.portal_my_points", values)

    @http.route(
        "/my/library-preferences", type="http", auth="user", methods=["GET", "POST"], website=True
    )
    def portal_library_preferences(self, **post):
        """The reader chooses, per purpose, which messages they receive."""
        partner = request.env.user.partner_id.sudo()
        saved = False
        if request.httprequest.method == "POST" and partner.is_reader:
            partner._library_set_consent(
                {purpose: bool(post.get(purpose)) for purpose in CONSENT_FIELDS}, "portal"
            )
            saved = True
        labels = dict(
            request.env["library.consent.log"]
            ._fields["purpose"]
            ._description_selection(request.env)
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "purposes": [
                    (purpose, labels[purpose], partner[field])
                    for purpose, field in CONSENT_FIELDS.items()
                ],
                "saved": saved,
                "page_name": "library_preferences",
            }
        )
        return request.render("library_crm.portal_library_preferences", values)

    @http.route(
        "/library/you-said-we-did", type="http", auth="public", website=True, readonly=True
    )
    def you_said_we_did(self, **kwargs):
        """读者意见回复公示: only the texts a manager wrote for publication
        (public summary and public reply), never what the reader wrote, and
        only the current company's."""
        suggestions = (
            request.env["library.suggestion"]
            .sudo()
            .search(
                [
                    ("is_published", "=", True),
                    ("state", "in", ("done", "closed")),
                    ("company_id", "=", request.env.company.id),
                    # Published before the public texts existed: nothing to show.
                    ("public_summary", "!=", False),
                    ("public_reply", "!=", False),
                ],
                order="done_date desc",
                limit=100,
            )
        )
        items = [
            {
                "reader": suggestion._anonymised_reader(),
                "category": suggestion.category_id.name,
                "date": suggestion.done_date,
                "summary": suggestion.public_summary,
                "reply": suggestion.public_reply,
            }
            for suggestion in suggestions
        ]
        return request.render("library_crm.portal_you_said_we_did", {"items": items})

    @http.route("/my/library-usage", type="http", auth="user", website=True, readonly=True)
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

    # ------------------------------------------------------------------
    # Annual reading report
    # ------------------------------------------------------------------

    def _reading_report_domain(self):
        """The signed-in reader's own reports, whatever the user's role."""
        partner = request.env.user.partner_id
        return [("partner_id", "in", [partner.id, partner.commercial_partner_id.id])]

    @http.route(
        ["/my/reading-report", "/my/reading-report/<int:year>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_reading_report(self, year=None, **kwargs):
        """The reader's annual reading report (the latest one by default),
        read with their own rights: the record rules give them theirs only."""
        Report = request.env["library.reading.report"]
        if not Report.has_access("read"):
            raise request.not_found()
        domain = self._reading_report_domain()
        reports = Report.search(domain)
        report = reports.filtered(lambda r: r.year == year)[:1] if year else reports[:1]
        if not report:
            raise request.not_found()
        values = self._prepare_portal_layout_values()
        department = report.sudo().department_id
        values.update(
            {
                "report": report,
                # Whole sentences, so that a translation orders its words freely.
                "texts": {
                    "title": request.env._("My %(year)s at the library", year=report.year),
                    "busiest": request.env._(
                        "%(count)s uses of the library that month",
                        count=report.busiest_month_count,
                    ),
                    "compared": request.env._(
                        "Compared with your department: %(department)s",
                        department=department.name,
                    )
                    if department
                    else request.env._("Compared with your department"),
                    "loans": request.env._(
                        "You borrowed more than %(percent)s%% of readers of your department.",
                        percent=report.loan_percentile,
                    ),
                    "activity": request.env._(
                        "You used the library more than %(percent)s%% of them.",
                        percent=report.activity_percentile,
                    ),
                    "total": request.env._(
                        "In all, %(count)s uses of the library in %(year)s.",
                        count=report.activity_count,
                        year=report.year,
                    ),
                },
                "years": sorted(set(reports.mapped("year")), reverse=True),
                "page_name": "reading_report",
            }
        )
        return request.render("library_crm.portal_my_reading_report", values)

    @http.route("/my/liaison-reviews", type="http", auth="user", website=True, readonly=True)
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
            if not self._is_review_contact(review):
                return request.redirect("/my")
            typed, values, errors = self._parse_review_form(post)
            if not errors:
                # Recorded as the contact's submission, and its changes
                # tracked in their name: the user, or for the e-mailed link
                # opened without logging in, the contact's own account if any.
                user = request.env.user
                submitter = review.contact_partner_id.user_ids[:1] if user._is_public() else user
                if submitter:
                    review = review.with_user(submitter).sudo()
                review._submit(values, submitted_by=submitter)
                review.message_post(
                    body=request.env._("The department submitted its review."),
                    author_id=review.contact_partner_id.id
                    if user._is_public()
                    else user.partner_id.id,
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
                "can_submit": self._is_review_contact(review),
                "page_name": "liaison_review",
            }
        )
        return request.render("library_crm.portal_liaison_review", values)

    def _is_review_contact(self, review):
        """Only the department contact writes the department's review: a
        logged-in user who is someone else does not, even holding the link
        (staff submit on the department's behalf from the form). Without an
        account, the e-mailed link is the contact's."""
        user = request.env.user
        return user._is_public() or user.partner_id == review.sudo().contact_partner_id

    def _parse_review_form(self, post):
        """Return what the contact typed, the values to store, and the errors
        by field; nothing typed is lost when the form comes back."""
        typed = {name: _form_text(post, name) for name in (*SCORE_FIELDS, "summary")}
        typed["department_comment"] = _form_text(post, "department_comment")
        errors = {}
        values = {}
        for name in SCORE_FIELDS:
            score = typed[name]
            if not is_digits(score, 1) or not 1 <= int(score) <= 5:
                errors[name] = request.env._("Choose a score from 1 to 5.")
            else:
                values[name] = int(score)
        if not typed["summary"]:
            errors["summary"] = request.env._("Write the department's summary.")
        values["summary"] = plaintext2html(typed["summary"])
        values["department_comment"] = typed["department_comment"]
        return typed, values, errors


class LibraryCrmAttachmentController(AttachmentController):
    @http.route()
    @add_guest_to_context
    def mail_attachment_upload(self, ufile, thread_id, thread_model, is_pending=False, **kwargs):
        """A reader's file for a suggestion's chatter meets the policy of the
        submission form; the post itself checks it again (message_post)."""
        if thread_model == "library.suggestion" and not request.env.user._is_internal():
            content = ufile.read(ATTACHMENT_MAX_BYTES + 1)
            ufile.seek(0)
            if error := attachment_error(request.env, ufile.filename, content):
                return request.make_json_response({"error": error})
        return super().mail_attachment_upload(ufile, thread_id, thread_model, is_pending, **kwargs)
