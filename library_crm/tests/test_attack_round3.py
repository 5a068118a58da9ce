# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Third round of attacks, over real JSON-RPC, on the features merged on
the reading reports, the import sources, the suggestions' hidden state,
the ratings and the dashboard share. Each hole found has its regression
test; the paths that already held are kept in test_refusals_hold."""

from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmHttpCase

HOSTILE = {
    "active_test": False,
    "allowed_company_ids": [1],
    "bypass": True,
    "sudo": True,
    "su": True,
    "uid": 1,
}


@tagged("post_install", "-at_install")
class TestAttackRound3(LibraryCrmHttpCase):
    rpc_context = HOSTILE

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
