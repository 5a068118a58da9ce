# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Third round of attacks, over real JSON-RPC, on the features merged on
the reading reports, the import sources, the suggestions' hidden state,
the ratings and the dashboard share. Each hole found has its regression
test; the paths that already held are kept in test_refusals_hold."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmHttpCase
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
        for host in ("0.0.0.0", "nowhere.invalid,127.0.0.1"):
            with self.subTest(host=host):
                source = self.env["library.import.source"].create(
                    {
                        "name": f"Odoo itself at {host}",
                        "kind": "readers",
                        "location": "sql",
                        "sql_engine": "postgresql",
                        "sql_host": host,
                        "sql_port": 5432,
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
