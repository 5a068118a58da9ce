# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Import sources over JSON-RPC: librarians read sources and runs but not
the credentials; internal and portal users read nothing; only a manager
runs a source or tests its connection, whatever the context says."""

from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmHttpCase

HOSTILE = {"active_test": False, "bypass": True, "su": True, "uid": 2}


@tagged("post_install", "-at_install")
class TestImportSourceRpc(LibraryCrmHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.env["library.import.source"].create(
            {
                "name": "Koha over RPC",
                "kind": "readers",
                "location": "sql",
                "sql_engine": "mysql",
                "sql_database": "koha",
                "login": "koha_reader",
                "password": "s3cret-pw",
                "query": "SELECT cardnumber AS card_number FROM borrowers ORDER BY 1",
            }
        )
        cls.import_run = cls.env["library.import.run"].create(
            {"source_id": cls.source.id, "state": "done", "read_count": 3}
        )

    def _rpc(self, user, model, method, args, kwargs=None):
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": dict(kwargs or {}, context=HOSTILE),
            },
        )

    def _refused(self, user, model, method, args, kwargs=None):
        with self.assertRaises(JsonRpcException) as caught, mute_logger("odoo.http"):
            self._rpc(user, model, method, args, kwargs)
        return str(caught.exception)

    def test_librarian_reads_runs_not_credentials(self):
        librarian = self.user_librarian
        [source] = self._rpc(
            librarian, "library.import.source", "read", [self.source.ids, ["name", "sql_database"]]
        )
        self.assertEqual(source["name"], "Koha over RPC")
        [run] = self._rpc(
            librarian, "library.import.run", "read", [self.import_run.ids, ["read_count"]]
        )
        self.assertEqual(run["read_count"], 3)
        for field in ("password", "login"):
            with self.subTest(field=field):
                self.assertEqual(
                    self._refused(
                        librarian, "library.import.source", "read", [self.source.ids, [field]]
                    ),
                    "odoo.exceptions.AccessError",
                )
        # Nor through a search on the secret, nor by reading every field.
        everything = self._rpc(librarian, "library.import.source", "read", [self.source.ids])
        self.assertNotIn("password", everything[0])
        self.assertNotIn("s3cret-pw", str(everything))
        self.assertEqual(
            self._refused(
                librarian,
                "library.import.source",
                "search",
                [[("password", "=like", "s3%")]],
            ),
            "odoo.exceptions.AccessError",
        )

    def test_only_managers_run_or_change_sources(self):
        for user in (self.user_librarian, self.user_internal, self.user_portal):
            for method in ("action_run", "action_test_connection"):
                with self.subTest(user=user.login, method=method):
                    self.assertEqual(
                        self._refused(user, "library.import.source", method, [self.source.ids]),
                        "odoo.exceptions.AccessError",
                    )
            with self.subTest(user=user.login, method="write"):
                self.assertEqual(
                    self._refused(
                        user,
                        "library.import.source",
                        "write",
                        [self.source.ids, {"query": "SELECT 1"}],
                    ),
                    "odoo.exceptions.AccessError",
                )
        self.assertFalse(self.source.run_ids - self.import_run)
        # The manager may: the run is handed to the scheduler.
        result = self._rpc(
            self.user_manager, "library.import.source", "action_run", [self.source.ids]
        )
        self.assertEqual(result["tag"], "display_notification")
        [values] = self._rpc(
            self.user_manager, "library.import.source", "read", [self.source.ids, ["password"]]
        )
        self.assertEqual(values["password"], "s3cret-pw")

    def test_internal_and_portal_users_read_nothing(self):
        for user in (self.user_internal, self.user_portal):
            for model, ids in (
                ("library.import.source", self.source.ids),
                ("library.import.run", self.import_run.ids),
            ):
                with self.subTest(user=user.login, model=model):
                    self.assertEqual(
                        self._refused(user, model, "read", [ids, ["display_name"]]),
                        "odoo.exceptions.AccessError",
                    )

    def test_librarian_form_has_no_credentials(self):
        views = self._rpc(
            self.user_librarian,
            "library.import.source",
            "get_views",
            [[[False, "form"], [False, "list"]]],
        )
        arch = views["views"]["form"]["arch"]
        self.assertIn('name="query"', arch)
        self.assertNotIn('name="password"', arch)
        self.assertNotIn('name="login"', arch)
        manager_arch = self._rpc(
            self.user_manager, "library.import.source", "get_views", [[[False, "form"]]]
        )["views"]["form"]["arch"]
        self.assertIn('name="password"', manager_arch)
