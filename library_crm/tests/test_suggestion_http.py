# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.http import Request
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmHttpCase


@tagged("post_install", "-at_install")
class TestSuggestionPortal(LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The suggestion tour picks the assignee by this login (its name).
        cls.manager = cls._new_user("sug_manager", "library_crm.group_library_manager")
        cls.leader = cls._new_user("sug_leader", "library_crm.group_library_leadership")
        cls.reader_a = cls.user_portal
        cls.reader_b = cls._new_user("sug_reader_b", "base.group_portal")
        (cls.reader_a.partner_id | cls.reader_b.partner_id).write({"is_reader": True})
        cls.reader_a.partner_id.write({"name": "Reader Alpha", "reader_category": "doctoral"})
        cls.unit = cls.env["library.unit"].create(
            {
                "name": "Reading Rooms",
                "manager_id": cls.manager.id,
                "member_ids": [(6, 0, cls.user_librarian.ids)],
            }
        )
        cls.category = cls.env["library.suggestion.category"].create(
            {"name": "Reading rooms", "default_unit_id": cls.unit.id, "sequence": 1}
        )
        Suggestion = cls.env["library.suggestion"]
        cls.suggestion_a = Suggestion.create(
            {
                "partner_id": cls.reader_a.partner_id.id,
                "category_id": cls.category.id,
                "subject": "Alpha wants quieter rooms",
                "description": "<p>Alpha private text</p>",
                "channel": "portal",
            }
        )
        cls.suggestion_b = Suggestion.create(
            {
                "partner_id": cls.reader_b.partner_id.id,
                "category_id": cls.category.id,
                "subject": "Beta wants more sockets",
                "description": "<p>Beta private text</p>",
                "channel": "portal",
            }
        )

    def _form(self, **values):
        return {"csrf_token": Request.csrf_token(self), **values}

    def test_readers_see_only_their_own(self):
        self.authenticate_as(self.reader_a)
        listing = self.url_open("/my/suggestions")
        self.assertEqual(listing.status_code, 200)
        self.assertIn("Alpha wants quieter rooms", listing.text)
        self.assertNotIn("Beta wants more sockets", listing.text)
        own = self.url_open(f"/my/suggestions/{self.suggestion_a.id}")
        self.assertIn("Alpha private text", own.text)
        other = self.url_open(f"/my/suggestions/{self.suggestion_b.id}")
        self.assertNotIn("Beta private text", other.text)
        self.assertTrue(other.url.endswith("/my"), "redirected away")

    def test_reader_cannot_post_on_another_readers_suggestion(self):
        self.authenticate_as(self.reader_a)

        def post(suggestion, text):
            return self.make_jsonrpc_request(
                "/mail/message/post",
                {
                    "thread_model": "library.suggestion",
                    "thread_id": suggestion.id,
                    "post_data": {"body": text, "message_type": "comment"},
                },
            )

        post(self.suggestion_a, "Any news about my suggestion?")
        self.assertIn(
            "Any news about my suggestion?", self.suggestion_a.message_ids.mapped("body")[0]
        )
        with self.assertRaises(JsonRpcException) as refused, self.assertLogs(level="WARNING"):
            post(self.suggestion_b, "Intruding")
        self.assertIn("NotFound", refused.exception.args[0])
        self.assertNotIn("Intruding", "".join(self.suggestion_b.message_ids.mapped("body")))

    def test_submission_bad_form_then_good_form(self):
        self.authenticate_as(self.reader_a)
        page = self.url_open("/my/suggestions/new")
        self.assertIn("Reading rooms", page.text)
        bad = self.url_open(
            "/my/suggestions/new",
            data=self._form(category_id="", subject="", description="Keep this text please"),
            files={"attachments": ("page.txt", b"<html><script>alert(1)</script></html>")},
        )
        self.assertEqual(bad.status_code, 200)
        self.assertIn("Keep this text please", bad.text, "what the reader typed is kept")
        self.assertEqual(bad.text.count("invalid-feedback"), 3)
        self.assertFalse(
            self.env["library.suggestion"].search(
                [
                    ("partner_id", "=", self.reader_a.partner_id.id),
                    ("channel", "=", "portal"),
                    ("subject", "=", ""),
                ]
            )
        )
        good = self.url_open(
            "/my/suggestions/new",
            data=self._form(
                category_id=str(self.category.id),
                subject="Open on Sundays",
                description="Please open <b>on Sundays</b>.",
            ),
            files={"attachments": ("timetable.pdf", b"%PDF-1.4 timetable")},
        )
        self.assertEqual(good.status_code, 200)
        created = self.env["library.suggestion"].search([("subject", "=", "Open on Sundays")])
        self.assertEqual(created.partner_id, self.reader_a.partner_id)
        self.assertEqual(created.channel, "portal")
        self.assertIn("&lt;b&gt;", created.description, "typed markup is text, not HTML")
        self.assertEqual(
            self.env["ir.attachment"]
            .search([("res_model", "=", "library.suggestion"), ("res_id", "=", created.id)])
            .mapped("name"),
            ["timetable.pdf"],
        )
        self.assertIn(f"/my/suggestions/{created.id}", good.url)
        self.assertIn("Open on Sundays", good.text)

    def test_oversized_attachment_is_refused(self):
        self.authenticate_as(self.reader_a)
        response = self.url_open(
            "/my/suggestions/new",
            data=self._form(
                category_id=str(self.category.id), subject="Big file", description="See file"
            ),
            files={"attachments": ("scan.pdf", b"%PDF-1.4 " + b"0" * (5 * 1024 * 1024 + 1))},
        )
        self.assertIn("Big file", response.text)
        self.assertFalse(self.env["library.suggestion"].search([("subject", "=", "Big file")]))

    def test_rating_from_the_reply_and_points_in_portal(self):
        suggestion = self.suggestion_a
        suggestion.with_user(self.user_librarian).action_accept()
        suggestion.with_user(self.user_librarian).write({"user_id": self.user_librarian.id})
        suggestion.with_user(self.user_librarian).action_assign()
        suggestion.with_user(self.user_librarian).solution = "<p>Silent zone on floor 3.</p>"
        suggestion.with_user(self.user_librarian).action_propose()
        suggestion.with_user(self.user_librarian).action_submit_approval()
        suggestion.with_user(self.leader).action_approve("Yes")
        suggestion.with_user(self.user_librarian).reply = "<p>Floor 3 is now a silent zone.</p>"
        suggestion.with_user(self.user_librarian).action_done()
        self.authenticate_as(self.reader_a)
        page = self.url_open(suggestion.get_portal_url())
        self.assertIn("Floor 3 is now a silent zone.", page.text)
        token = suggestion._rating_get_access_token()
        self.assertIn(f"/rate/{token}/1", page.text)
        response = self.url_open(
            f"/rate/{token}/submit_feedback",
            data=self._form(rate="1", feedback="Still noisy"),
        )
        self.assertEqual(response.status_code, 200)
        suggestion.invalidate_recordset()
        self.assertEqual(suggestion.rating_last_value, 1)
        self.assertTrue(
            suggestion.activity_ids.filtered(lambda a: a.user_id == self.manager),
            "a low rating gives the manager a follow-up",
        )
        points = self.url_open("/my/points")
        self.assertIn("+10", points.text)

    def test_public_page_shows_only_the_texts_written_for_publication(self):
        public = {
            "state": "done",
            "reply": "<p>Private reply: we called Alpha on 138 0000 0000.</p>",
            "done_date": "2026-11-20 10:00:00",
            "public_summary": "A doctoral reader asked for quieter reading rooms.",
            "public_reply": "Floor 3 is now a silent zone.",
            "is_published": True,
        }
        self.suggestion_a.sudo().write(public)
        other_company = self.env["res.company"].create({"name": "Branch Library"})
        other = (
            self.env["library.suggestion"]
            .sudo()
            .create(
                {
                    "partner_id": self.reader_b.partner_id.id,
                    "category_id": self.category.id,
                    "subject": "Branch subject",
                    "company_id": other_company.id,
                }
            )
        )
        other.write({**public, "public_summary": "Branch library summary"})
        # Published by an earlier release, before the public texts existed.
        legacy = self.suggestion_b.sudo()
        legacy.write({**public, "public_summary": "Legacy summary"})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE library_suggestion SET public_reply = NULL WHERE id = %s", [legacy.id]
        )
        legacy.invalidate_recordset()
        self.authenticate(None, None)
        page = self.url_open("/library/you-said-we-did")
        self.assertEqual(page.status_code, 200)
        self.assertIn("A doctoral reader asked for quieter reading rooms.", page.text)
        self.assertIn("Floor 3 is now a silent zone.", page.text)
        self.assertIn("Reading rooms", page.text, "the category")
        for private in (
            "Alpha private text",  # the reader's own words
            "Alpha wants quieter rooms",  # the reader's subject
            "Private reply",  # the reply e-mailed to the reader
            "Reader Alpha",
            "Beta wants more sockets",  # not published
            "Branch library summary",  # another company's
            "Legacy summary",  # no public reply was written
        ):
            self.assertNotIn(private, page.text)

    def test_reader_cannot_read_internal_fields_over_rpc(self):
        self.suggestion_a.with_user(self.user_librarian).action_accept()
        self.authenticate_as(self.reader_a)

        def read(fields):
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "library.suggestion",
                    "method": "read",
                    "args": [self.suggestion_a.ids, fields],
                    "kwargs": {},
                },
            )

        self.assertEqual(read(["subject"])[0]["subject"], "Alpha wants quieter rooms")
        for field in ("solution", "approval_comment", "user_id", "assessed_by_id", "is_overdue"):
            with (
                self.subTest(field=field),
                self.assertRaises(JsonRpcException) as refused,
                self.assertLogs(level="WARNING"),
            ):
                read([field])
            self.assertIn("AccessError", refused.exception.args[0])

    def test_reader_cannot_move_their_suggestion_over_rpc(self):
        self.authenticate_as(self.reader_a)
        # A step refuses the wrong role; the write is refused whatever the
        # context says (as a step-only field first, and by the access rights).
        for method, args, error in (
            ("action_accept", [], "AccessError"),
            ("write", [{"state": "approved", "adopted": True}], "odoo.exceptions."),
        ):
            with (
                self.subTest(method=method),
                self.assertRaises(JsonRpcException) as refused,
                self.assertLogs(level="WARNING"),
            ):
                self.make_jsonrpc_request(
                    "/web/dataset/call_kw",
                    {
                        "model": "library.suggestion",
                        "method": method,
                        "args": [self.suggestion_a.ids, *args],
                        "kwargs": {"context": {"library_suggestion_step": True}},
                    },
                )
            self.assertIn(error, refused.exception.args[0])
        self.assertEqual(self.suggestion_a.state, "new")
        self.assertFalse(self.suggestion_a.adopted)

    def test_reports_render_real_pdfs(self):
        suggestion = self.suggestion_a
        suggestion.with_user(self.user_librarian).action_accept()
        register = self.env["library.suggestion.register"].create({})
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        for xmlid, records in [
            ("library_crm.action_report_suggestion", suggestion),
            ("library_crm.action_report_suggestion_register", register),
        ]:
            with self.subTest(report=xmlid), self.allow_pdf_render():
                pdf, kind = Report._render_qweb_pdf(xmlid, records.ids)
                self.assertEqual(kind, "pdf")
                self.assertTrue(pdf.startswith(b"%PDF"))
        html = Report._render_qweb_html("library_crm.action_report_suggestion", suggestion.ids)[0]
        self.assertIn("Alpha private text", html.decode())
        html = Report._render_qweb_html(
            "library_crm.action_report_suggestion_register", register.ids
        )[0]
        self.assertIn("Beta wants more sockets", html.decode())

    def test_backend_tour_from_new_to_done(self):
        self.start_tour("/odoo", "library_crm_suggestion_tour", login=self.manager.login)
        self.start_tour("/odoo", "library_crm_suggestion_approval_tour", login=self.leader.login)
        suggestion = self.env["library.suggestion"].search(
            [("subject", "=", "Tour: more power sockets")]
        )
        self.assertEqual(suggestion.state, "done")
        self.assertEqual(suggestion.unit_id, self.unit)
        self.assertTrue(suggestion.adopted)
        self.assertEqual(
            suggestion.approval_ids.mapped("decision"),
            ["submitted", "approved"],
        )
