# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.http import Request
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmHttpCase

# Numbers a form can receive: "²" is a digit to str.isdigit() but int() refuses it.
BAD_NUMBERS = ("²", "³⁵", "99999999999999999999999", "-1", "1e3", "3.5", "", "abc")


@tagged("post_install", "-at_install")
class TestPortalBadInput(LibraryCrmHttpCase):
    """Portal forms answer bad input with the form and a message, never a
    500; a suggestion's chatter applies the submission form's file policy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_portal.partner_id.write({"is_reader": True})
        cls.category = cls.env["library.suggestion.category"].create({"name": "Opening hours"})
        cls.suggestion = cls.env["library.suggestion"].create(
            {
                "partner_id": cls.user_portal.partner_id.id,
                "category_id": cls.category.id,
                "subject": "Longer hours",
                "description": "<p>Please</p>",
                "channel": "portal",
            }
        )
        cls.dean = cls._new_user("bad_dean", "base.group_portal")
        department = cls.env["library.department"].create(
            {
                "name": "Physics",
                "code": "PHYS-BAD",
                "liaison_user_ids": [(6, 0, cls.user_librarian.ids)],
                "contact_ids": [(6, 0, cls.dean.partner_id.ids)],
                "review_contact_id": cls.dean.partner_id.id,
            }
        )
        with freeze_time("2026-12-01"):
            reviews = cls.env["library.liaison.review"]._create_for_year(2026)
        cls.review = reviews.filtered(lambda r: r.department_id == department)
        cls.review.write({"state": "sent"})

    def _form(self, **values):
        return {"csrf_token": Request.csrf_token(self), **values}

    def test_suggestion_form_bad_category_numbers(self):
        self.authenticate_as(self.user_portal)
        for number in BAD_NUMBERS:
            with self.subTest(number=number):
                response = self.url_open(
                    "/my/suggestions/new",
                    data=self._form(
                        category_id=number, subject=f"Bad {number}", description="Kept text"
                    ),
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn('name="category_id" class="form-select is-invalid"', response.text)
                self.assertIn("Kept text", response.text)
        self.assertFalse(
            self.env["library.suggestion"].search([("subject", "=like", "Bad %")]),
        )

    def test_suggestion_form_nul_characters(self):
        self.authenticate_as(self.user_portal)
        response = self.url_open(
            "/my/suggestions/new",
            data=self._form(
                category_id=str(self.category.id),
                subject="Quiet\x00 rooms",
                description="More\x00 of them",
            ),
        )
        self.assertEqual(response.status_code, 200)
        created = self.env["library.suggestion"].search([("subject", "=", "Quiet rooms")])
        self.assertEqual(created.partner_id, self.user_portal.partner_id)
        self.assertIn("More of them", created.description)

    def test_review_form_bad_scores(self):
        self.authenticate_as(self.dean)
        for number in BAD_NUMBERS:
            with self.subTest(number=number):
                response = self.url_open(
                    f"/my/liaison-reviews/{self.review.id}",
                    data=self._form(
                        summary="Kept\x00 summary",
                        score_responsiveness=number,
                        score_expertise=number,
                        score_proactive=number,
                        score_deliverables=number,
                    ),
                )
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.text.count("form-select w-auto is-invalid"), 4)
                self.assertIn("Kept summary", response.text)
        self.assertEqual(self.review.state, "sent")

    def _upload(self, name, content):
        response = self.url_open(
            "/mail/attachment/upload",
            data={
                "csrf_token": Request.csrf_token(self),
                "thread_id": str(self.suggestion.id),
                "thread_model": "library.suggestion",
                "is_pending": "true",
            },
            files={"ufile": (name, content)},
        )
        self.assertEqual(response.status_code, 200)
        return json.loads(response.text)

    def _post(self, attachments):
        return self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "library.suggestion",
                "thread_id": self.suggestion.id,
                "post_data": {
                    "body": "With files",
                    "message_type": "comment",
                    "attachment_ids": attachments.ids,
                    "attachment_tokens": [a._get_ownership_token() for a in attachments],
                },
            },
        )

    def test_chatter_upload_applies_the_attachment_policy(self):
        self.authenticate_as(self.user_portal)
        script = self._upload("notes.pdf", b"<html><script>alert(1)</script></html>")
        self.assertIn("notes.pdf", script["error"])
        large = self._upload("scan.pdf", b"%PDF-1.4 " + b"0" * (5 * 1024 * 1024))
        self.assertIn("scan.pdf", large["error"])
        self.assertIn("5 MB", large["error"])
        good = self._upload("timetable.pdf", b"%PDF-1.4 timetable")
        self.assertTrue(good["data"]["attachment_id"])
        self.assertFalse(
            self.env["ir.attachment"].search([("name", "in", ("notes.pdf", "scan.pdf"))])
        )

    def test_chatter_post_applies_the_attachment_policy(self):
        """Files that reach the post another way are checked there too."""
        self.authenticate_as(self.user_portal)
        Attachment = self.env["ir.attachment"].with_user(self.user_portal).sudo()

        def pending(name, raw):
            return Attachment.create(
                {"name": name, "raw": raw, "res_model": "mail.compose.message", "res_id": 0}
            )

        script = pending("notes.pdf", b"<html><script>alert(1)</script></html>")
        with self.assertRaises(JsonRpcException) as refused, self.assertLogs(level="WARNING"):
            self._post(script)
        self.assertIn("UserError", refused.exception.args[0])
        four = pending("a.pdf", b"%PDF-1.4 a")
        for name in ("b.pdf", "c.pdf", "d.pdf"):
            four |= pending(name, b"%PDF-1.4 x")
        with self.assertRaises(JsonRpcException) as refused, self.assertLogs(level="WARNING"):
            self._post(four)
        self.assertIn("UserError", refused.exception.args[0])
        # The same check, called as the route calls it, says why.
        with self.assertRaisesRegex(UserError, "Attach at most 3 files"):
            self.suggestion.with_user(self.user_portal).sudo().message_post(
                body="Direct", attachment_ids=four.ids
            )
        self.assertNotIn("With files", "".join(self.suggestion.message_ids.mapped("body")))
        self._post(four[:3])
        message = self.suggestion.message_ids.filtered(lambda m: "With files" in m.body)
        names = sorted(message.attachment_ids.mapped("name"))
        self.assertEqual(names, ["a.pdf", "b.pdf", "c.pdf"])
        # Library staff are not limited.
        staff_post = self.suggestion.message_post(
            body="From the library", attachments=[("page.html", b"<html></html>")]
        )
        self.assertEqual(staff_post.attachment_ids.name, "page.html")

    def test_huge_ids_in_urls(self):
        """Ids beyond any integer column answer with a page, not a 500
        (a guard: main already passes)."""
        self.authenticate_as(self.user_portal)
        huge = "99999999999999999999"
        for url, redirected in (
            (f"/my/suggestions/{huge}", True),
            (f"/my/liaison-reviews/{huge}", True),
            (f"/my/suggestions/page/{huge}", False),
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(huge not in response.url, redirected)
