# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Third round of attacks, over real JSON-RPC, on the features merged on
the reading reports, the import sources, the suggestions' hidden state,
the ratings and the dashboard share. Each hole found has its regression
test; the paths that already held are kept in test_refusals_hold."""

import os
import tempfile

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmHttpCase
from .test_import_source import NOW, NOW_TS, ImportSourceCase
from .test_service_rating import ServiceRatingCommon

HOSTILE = {
    "active_test": False,
    "allowed_company_ids": [1],
    "bypass": True,
    "sudo": True,
    "su": True,
    "uid": 1,
}


@tagged("post_install", "-at_install")
class TestAttackRound3(ServiceRatingCommon, LibraryCrmHttpCase):
    rpc_context = HOSTILE

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_service_rating()
        cls.user_portal.partner_id.write({"is_reader": True, "email": "reader3@example.edu"})
        cls.unit = cls.env["library.unit"].create(
            {
                "name": "Round Three Desk",
                "manager_id": cls.user_manager.id,
                "member_ids": [(6, 0, cls.user_librarian.ids)],
                "leader_id": cls.user_leader.id,
            }
        )
        cls.category = cls.env["library.suggestion.category"].create(
            {"name": "Round three", "default_unit_id": cls.unit.id}
        )
        cls.suggestion = cls.env["library.suggestion"].create(
            {
                "partner_id": cls.user_portal.partner_id.id,
                "category_id": cls.category.id,
                "subject": "Longer opening hours",
                "channel": "portal",
            }
        )

    def _refused(self, user, model, method, args, kwargs=None):
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException) as caught:
            self._rpc(user, model, method, args, kwargs)
        return caught.exception

    def _ratings(self, record):
        return (
            self.env["rating.rating"]
            .sudo()
            .search([("res_model", "=", record._name), ("res_id", "=", record.id)])
        )

    # ------------------------------------------------------------------
    # Import sources
    # ------------------------------------------------------------------

    def test_odoo_database_server_is_refused_under_any_host_spelling(self):
        """Hole: the guard compared the host's spelling, so 0.0.0.0 or a
        libpq host list ("nowhere.invalid,127.0.0.1") reached the server of
        Odoo's own database, and a library manager read res_users through a
        mapping query. The connection itself is now recognised."""
        info = self.env.cr.connection.info
        if info.host.startswith("/"):
            # Odoo's server listens on a socket only (the shifted-clock run):
            # the same spellings, with its socket folder.
            hosts = (info.host + "/", f"nowhere.invalid,{info.host}")
        else:
            hosts = ("0.0.0.0", "nowhere.invalid,127.0.0.1")
        for host in hosts:
            with self.subTest(host=host):
                source = self.env["library.import.source"].create(
                    {
                        "name": f"Odoo itself at {host}",
                        "kind": "readers",
                        "location": "sql",
                        "sql_engine": "postgresql",
                        "sql_host": host,
                        "sql_port": info.port,
                        "sql_database": self.env.cr.dbname,
                        "query": "SELECT login AS card_number, password AS name FROM res_users"
                        " ORDER BY id",
                    }
                )
                result = self._rpc(
                    self.user_manager,
                    "library.import.source",
                    "action_test_connection",
                    [source.ids],
                )
                self.assertEqual(result["params"]["type"], "danger", result["params"])
                self.assertIn("server of Odoo's own database", result["params"]["message"])
        # The scheduled run is refused as well (once: a run rolls back its
        # lock cursor, which a test cursor shares).
        with mute_logger("odoo.addons.library_crm.models.library_import_source"):
            run = source._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("server of Odoo's own database", run.error)
        self.assertFalse(run.read_count)
        self.assertFalse(run.rejected_file)

    # ------------------------------------------------------------------
    # Ratings
    # ------------------------------------------------------------------

    def test_no_rating_is_posted_through_the_chatter(self):
        """Hole: message_post(rating_value=...) is public and made a rating
        (its message authored by the reader if author_id said so) on a
        suggestion or a service, for any librarian; ratings come only
        through the reader's link now."""
        interaction = self._log()
        before = self._ratings(interaction)
        targets = [
            ("library.suggestion", self.suggestion, self.user_portal.partner_id),
            ("library.interaction", interaction, self.reader),
        ]
        for model, record, reader in targets:
            for user in (self.user_librarian, self.user_manager, self.user_leader):
                for key, value in (("rating_value", 5), ("rating_id", before[:1].id)):
                    with self.subTest(model=model, user=user.login, key=key):
                        error = self._refused(
                            user,
                            model,
                            "message_post",
                            [record.ids],
                            {
                                "body": "Great service",
                                key: value,
                                "author_id": reader.id,
                                "message_type": "comment",
                            },
                        )
                        self.assertIn("AccessError", str(error))
        self.assertFalse(self._ratings(self.suggestion))
        self.assertEqual(self._ratings(interaction), before)
        self.assertFalse(before.filtered("consumed"), "the reader's request stays unanswered")
        self.assertFalse(before.message_id)
        # A plain comment still goes through.
        self._rpc(
            self.user_librarian,
            "library.suggestion",
            "message_post",
            [self.suggestion.ids],
            {"body": "Noted", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
        )
        self.assertIn("Noted", str(self.suggestion.message_ids[:1].body))

    def test_mapping_query_writes_no_file_on_the_database_server(self):
        """Hole: MariaDB's read-only transaction lets a SELECT write a file on
        the database host (INTO OUTFILE / DUMPFILE) or read one (LOAD_FILE):
        the mapping query may not."""
        source = self.env["library.import.source"].create(
            {
                "name": "ILS on MariaDB",
                "kind": "departments",
                "location": "sql",
                "sql_engine": "mysql",
                "sql_database": "koha",
                "query": "SELECT code, name FROM departments ORDER BY code",
            }
        )
        queries = [
            "SELECT 'x' AS code INTO OUTFILE '/tmp/library_crm_attack.txt'",
            "SELECT 'x' AS code INTO/**/DUMPFILE '/tmp/library_crm_attack.bin'",
            "SELECT LOAD_FILE('/etc/passwd') AS name, 'X' AS code ORDER BY code",
            "SELECT 1 AS code /*!50000 INTO OUTFILE '/tmp/library_crm_attack.txt' */",
        ]
        for query in queries:
            with self.subTest(query=query):
                error = self._refused(
                    self.user_manager,
                    "library.import.source",
                    "write",
                    [source.ids, {"query": query}],
                )
                self.assertIn("ValidationError", str(error))
                error = self._refused(
                    self.user_manager,
                    "library.import.source",
                    "create",
                    [{**source.copy_data()[0], "name": "Other", "query": query}],
                )
                self.assertIn("ValidationError", str(error))
                with (
                    self.assertRaisesRegex(ValidationError, "files on the database server"),
                    self.env.cr.savepoint(),
                ):
                    source.with_user(self.user_manager).write({"query": query})
        source.invalidate_recordset()
        self.assertEqual(source.query, "SELECT code, name FROM departments ORDER BY code")

    # ------------------------------------------------------------------
    # Paths that held
    # ------------------------------------------------------------------

    def test_refusals_hold(self):
        """Paths that were already refused, as (label, user, model, method,
        args, kwargs): credentials, reading reports, the suggestion's
        working state, ratings and the dashboard share."""
        Source, Report = "library.import.source", "library.reading.report"
        source = self.env[Source].create(
            {
                "name": "Protected feed",
                "kind": "usage",
                "location": "url",
                "url": "https://ils.example.edu/usage.csv",
                "login": "feeduser",
                "password": "s3cret-feed",
            }
        )
        reports = self.env[Report].create(
            [
                {
                    "partner_id": partner.id,
                    "year": 2025,
                    "company_id": self.company.id,
                    "loan_count": loans,
                    "activity_count": loans,
                }
                for partner, loans in ((self.reader, 41), (self.user_portal.partner_id, 3))
            ]
        )
        other_report = reports[0]
        interaction = self._log()
        rating = self._ratings(interaction)
        cases = []
        for user in (self.user_librarian, self.user_internal, self.user_portal):
            cases += [
                ("password read", user, Source, "read", [source.ids, ["password"]], None),
                ("login read", user, Source, "read", [source.ids, ["login"]], None),
                (
                    "password web_read",
                    user,
                    Source,
                    "web_read",
                    [source.ids],
                    {"specification": {"password": {}}},
                ),
                (
                    "password search_read",
                    user,
                    Source,
                    "search_read",
                    [[]],
                    {"fields": ["password"]},
                ),
                (
                    "password oracle",
                    user,
                    Source,
                    "search",
                    [[("password", "=like", "s3%")]],
                    None,
                ),
                ("password order", user, Source, "search", [[]], {"order": "password"}),
                (
                    "password read_group",
                    user,
                    Source,
                    "read_group",
                    [[], ["password"], ["password"]],
                    None,
                ),
                ("password export", user, Source, "export_data", [source.ids, ["password"]], None),
                ("run now", user, Source, "action_run", [source.ids], None),
                ("test connection", user, Source, "action_test_connection", [source.ids], None),
                ("mailing", user, Report, "action_create_mailing", [reports.ids], None),
                ("generate", user, Report, "_generate", [2025], None),
                (
                    "wizard",
                    user,
                    "library.reading.report.generate",
                    "create",
                    [{"year": 2025}],
                    None,
                ),
                (
                    "rating apply",
                    user,
                    "library.suggestion",
                    "rating_apply",
                    [self.suggestion.ids, 5],
                    None,
                ),
                (
                    "rating create",
                    user,
                    "rating.rating",
                    "create",
                    [
                        {
                            "res_model_id": self.env["ir.model"]._get_id("library.suggestion"),
                            "res_id": self.suggestion.id,
                            "partner_id": self.user_portal.partner_id.id,
                            "rating": 5,
                            "consumed": True,
                        }
                    ],
                    None,
                ),
                (
                    "rating write",
                    user,
                    "rating.rating",
                    "write",
                    [rating.ids, {"rating": 1, "consumed": True}],
                    None,
                ),
            ]
        for user in (self.user_internal, self.user_portal):
            cases += [
                ("other report", user, Report, "read", [other_report.ids, ["loan_count"]], None),
                ("reports list", user, Report, "search_read", [[]], {"fields": ["loan_count"]}),
            ][: 1 if user == self.user_portal else 2]
        # The reader's own suggestion: the working state and the pending
        # rejection stay staff's.
        portal, Suggestion = self.user_portal, "library.suggestion"
        ids = self.suggestion.ids
        cases += [
            ("state read", portal, Suggestion, "read", [ids, ["state"]], None),
            ("reason read", portal, Suggestion, "read", [ids, ["rejection_reason"]], None),
            ("state search", portal, Suggestion, "search", [[("state", "=", "new")]], None),
            ("state order", portal, Suggestion, "search", [[]], {"order": "state"}),
            ("state group", portal, Suggestion, "read_group", [[], ["state"], ["state"]], None),
            (
                "reason search",
                portal,
                Suggestion,
                "search",
                [[("rejection_reason", "!=", False)]],
                None,
            ),
            (
                "share",
                self.user_librarian,
                "spreadsheet.dashboard.share",
                "action_get_share_url",
                [
                    {
                        "dashboard_id": self.env.ref(
                            "spreadsheet_dashboard_library_crm.spreadsheet_dashboard_reader_relations"
                        ).id,
                        "spreadsheet_data": "{}",
                    }
                ],
                None,
            ),
        ]
        self.suggestion.with_user(self.user_librarian).action_reject("Too costly this year")
        self.assertEqual(self.suggestion.state, "reject_pending")
        held = []
        for label, user, model, method, args, kwargs in cases:
            with self.subTest(label=label, user=user.login):
                self._refused(user, model, method, args, kwargs)
                held.append(label)
        self.assertEqual(len(held), len(cases))
        # What the reader does read of their suggestion says nothing of it.
        row = self._rpc(portal, Suggestion, "read", [ids, ["reader_state", "is_open"]])[0]
        self.assertEqual((row["reader_state"], row["is_open"]), ("new", True))
        groups = self._rpc(
            portal, Suggestion, "read_group", [[], ["reader_state"], ["reader_state"]]
        )
        self.assertEqual([g["reader_state"] for g in groups], ["new"])
        self.authenticate_as(portal)
        thread = self.make_jsonrpc_request(
            "/mail/thread/messages",
            {"thread_model": Suggestion, "thread_id": self.suggestion.id, "fetch_params": {}},
        )
        self.assertNotIn("Too costly", str(thread))
        self.assertNotIn("reject_pending", str(thread))
        self.assertNotIn("Rejection Pending", str(thread))
        page = self.url_open(f"/my/suggestions/{self.suggestion.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("Too costly", page.text)
        self.assertNotIn("Rejection Pending", page.text)
        # The reader's report page is theirs, whatever the year asked.
        own = self._rpc(portal, Report, "search_read", [[]], {"fields": ["loan_count"]})
        self.assertEqual([r["loan_count"] for r in own], [3])
        sums = self._rpc(portal, Report, "read_group", [[], ["loan_count:sum"], []])
        self.assertEqual(sums[0]["loan_count"], 3)
        self.assertEqual(self.url_open("/my/reading-report/2024").status_code, 404)
        self.assertNotIn("41", self.url_open("/my/reading-report/2025").text.split("<main")[-1])
        # No secret in the source's chatter.
        self.assertNotIn("s3cret-feed", str(source.message_ids.mapped("body")))
        self.assertFalse(
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("field_id.model", "=", Source),
                    ("field_id.name", "in", ["login", "password"]),
                ]
            )
        )


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestAttackRound3Folder(ImportSourceCase):
    def test_file_swapped_for_a_symlink_is_not_read(self):
        """Hole: the listing skips symbolic links, but a file the sender
        replaced by one after the listing was read through it (Odoo's own
        configuration, say, into department names or the rejected rows a
        librarian downloads). The file is now opened without following a
        link, and a link is left alone."""
        source = self._source("swap", kind="departments")
        folder = os.path.join(self.tmp.name, "swap")
        outside = tempfile.TemporaryDirectory()
        self.addCleanup(outside.cleanup)
        secret = os.path.join(outside.name, "odoo.conf")
        with open(secret, "wb") as out:
            out.write("院系代码,院系名称,上级代码\nXSECRET,admin_passwd = hunter2,\n".encode())
        os.utime(secret, (NOW_TS - 600, NOW_TS - 600))
        link = os.path.join(folder, "units.csv")
        os.symlink(secret, link)
        # As if the folder had been listed when units.csv was a plain file.
        runs = source._folder_file(folder, "units.csv", commit=False)
        self.assertFalse(runs.filtered(lambda run: run.state == "done"))
        self.assertFalse(self.env["library.department"].search([("name", "like", "hunter2")]))
        self.assertTrue(os.path.islink(link), "the link is left where it is")
        self.assertTrue(os.path.exists(secret))
        # A plain file of the same folder is still imported.
        self._drop(source, "real.csv", "院系代码,院系名称,上级代码\nXREAL,Real Unit,\n".encode())
        run = source._folder_file(folder, "real.csv", commit=False)
        self.assertEqual(run.state, "done", run.error)
        self.assertTrue(self.env["library.department"].search([("name", "=", "Real Unit")]))


@tagged("post_install", "-at_install")
class TestAttackRound3Templates(ServiceRatingCommon, LibraryCrmHttpCase):
    rpc_context = HOSTILE

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_service_rating()

    def _tokens(self, record):
        return (
            self.env["rating.rating"]
            .sudo()
            .search([("res_model", "=", record._name), ("res_id", "=", record.id)])
            .mapped("access_token")
        )

    def _replied(self):
        """A suggestion of the reader replied to: the reply, with its rating
        request, goes to the reader."""
        suggestion = self.env["library.suggestion"].create(
            {
                "partner_id": self.user_portal.partner_id.id,
                "category_id": self.env["library.suggestion.category"]
                .create({"name": "Rating round three"})
                .id,
                "subject": "Quiet rooms",
                "channel": "portal",
            }
        )
        suggestion.sudo()._write_step(
            {"state": "done", "reply": "<p>Done</p>", "done_date": "2026-11-20 10:00:00"}
        )
        suggestion.sudo()._send_template("library_crm.mail_template_suggestion_reply")
        return suggestion

    def test_rating_token_is_not_rendered_for_staff(self):
        """Hole: a librarian opened a composer with the rating request
        template on a service or a suggestion and read the reader's rating
        link in its body, then rated in the reader's name. The token is
        rendered for the server's own mails and for the reader only."""
        self.user_portal.partner_id.write({"is_reader": True, "email": "r3@example.edu"})
        interaction = self._log()
        suggestion = self._replied()
        suggestion.sudo()._rating_get_access_token()  # as the reader's page makes it
        cases = [
            (interaction, "library_crm.mail_template_interaction_rating"),
            (suggestion, "library_crm.mail_template_suggestion_reply"),
        ]
        for record, xmlid in cases:
            for user in (self.user_librarian, self.user_manager):
                with self.subTest(model=record._name, user=user.login):
                    try:
                        composer = self._rpc(
                            user,
                            "mail.compose.message",
                            "create",
                            [
                                {
                                    "composition_mode": "comment",
                                    "model": record._name,
                                    "res_ids": str(record.ids),
                                    "template_id": self.env.ref(xmlid).id,
                                }
                            ],
                        )
                        body = self._rpc(
                            user, "mail.compose.message", "read", [[composer], ["body"]]
                        )[0]["body"]
                    except JsonRpcException:
                        body = ""
                    tokens = self._tokens(record)
                    self.assertTrue(tokens)
                    for token in tokens:
                        self.assertNotIn(token, body)
        # The reader's mail still holds their link.
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("body_html", "ilike", self._tokens(interaction)[0])])
        )
        self.assertEqual(mail.recipient_ids, self.reader, "the reader still gets the link")

    def test_suggestion_reply_in_the_chatter_holds_no_rating_token(self):
        """Hole: the reply with its rating links was posted on the
        suggestion, and a librarian read the reader's token in the chatter.
        The reply links to the reader's suggestion page, where the signed-in
        reader rates."""
        suggestion = self._replied()
        tokens = self._tokens(suggestion)
        for user in (self.user_librarian, self.user_manager):
            with self.subTest(user=user.login):
                rows = self._rpc(
                    user,
                    "mail.message",
                    "search_read",
                    [[("model", "=", "library.suggestion"), ("res_id", "=", suggestion.id)]],
                    {"fields": ["body"]},
                )
                self.assertTrue(rows, "the reply is in the chatter")
                for token in tokens:
                    self.assertNotIn(token, str(rows))
        reply = suggestion.message_ids.filtered(lambda m: "/my/suggestions/" in str(m.body))
        self.assertTrue(reply, "the reply links to the suggestion page")
        # The document's own link (a librarian can read it) gives no rating.
        self.logout()
        page = self.url_open(suggestion.sudo().get_portal_url())
        self.assertNotIn("/rate/", page.text)
        # The signed-in reader rates there.
        self.authenticate_as(self.user_portal)
        page = self.url_open(f"/my/suggestions/{suggestion.id}")
        self.assertIn("/rate/", page.text)
