# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import LibraryCrmCase, LibraryCrmHttpCase


class PointsCase(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("library_crm.points_suggestion_adopted", 10)
        cls.unit = cls.env["library.unit"].create(
            {"name": "Acquisitions", "manager_id": cls.user_manager.id}
        )
        cls.category = cls.env["library.suggestion.category"].create(
            {"name": "Collections", "default_unit_id": cls.unit.id}
        )
        cls.Transaction = cls.env["library.points.transaction"]

    def _suggestion(self, adopted=True):
        return self.env["library.suggestion"].create(
            {
                "partner_id": self.reader.id,
                "category_id": self.category.id,
                "subject": "More copies of the algorithms textbook",
                "adopted": adopted,
            }
        )

    def _redeem(self, points, user=None):
        """Redeem through the form opened by the reader's Redeem Points button."""
        Redemption = (
            self.env["library.points.redemption"]
            .with_user(user or self.user_librarian)
            .with_context(default_partner_id=self.reader.id)
        )
        with Form(Redemption) as form:
            self.assertEqual(form.points_balance, self.reader.points_balance)
            form.points = points
            form.description = "Printing credit"
        form.record.action_confirm()

    def _lines(self, partner=None):
        return self.Transaction.search([("partner_id", "=", (partner or self.reader).id)])

    def _assert_balance(self, expected, partner=None):
        """The displayed balance, the stored row and the lines agree."""
        partner = partner or self.reader
        partner.invalidate_recordset(["points_balance"])
        stored = self.env["library.points.balance"]._get(partner).get(partner.id, 0)
        self.assertEqual(partner.points_balance, expected)
        self.assertEqual(stored, expected)
        self.assertEqual(sum(self._lines(partner).mapped("points")), expected)


@tagged("post_install", "-at_install")
class TestPointsLedger(PointsCase):
    def test_nobody_creates_changes_or_deletes_lines(self):
        suggestion = self._suggestion()
        award = self._lines()
        self.assertEqual((award.points, award.reason), (10, "suggestion_adopted"))
        forged_values = {
            "points": 1000,
            "user_id": self.user_manager.id,
            "date": "2020-01-01 00:00:00",
            "partner_id": self.user_portal.partner_id.id,
            "reason": "redemption",
            "res_model": "library.suggestion",
            "res_id": suggestion.id + 1,
        }
        users = (self.user_portal, self.user_internal, self.user_librarian, self.user_manager)
        for user in users:
            Transaction = self.Transaction.with_user(user)
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    Transaction.create(
                        {"partner_id": self.reader.id, "points": 50, "reason": "adjustment"}
                    )
                for field, value in forged_values.items():
                    with self.subTest(field=field), self.assertRaises(AccessError):
                        award.with_user(user).write({field: value})
                with self.assertRaises(AccessError):
                    award.with_user(user).unlink()
        # Not even code running as superuser rewrites what a line recorded.
        with self.assertRaises(UserError):
            award.sudo().write({"points": 1000})
        self._assert_balance(10)

    def test_who_and_when_are_recorded_not_given(self):
        line = self.Transaction.sudo().create(
            {
                "partner_id": self.reader.id,
                "points": 3,
                "reason": "adjustment",
                "user_id": self.user_manager.id,
                "date": "2020-01-01 00:00:00",
            }
        )
        self.assertEqual(line.user_id, self.env.user)
        self.assertGreater(line.date.year, 2020)

    def test_redemption_only_by_librarians(self):
        self._suggestion()
        for user in (self.user_portal, self.user_internal):
            wizard = (
                self.env["library.points.redemption"]
                .sudo()
                .create({"partner_id": self.reader.id, "points": 4, "description": "Printing"})
            )
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                wizard.with_user(user).action_confirm()
        self._redeem(4)
        redemption = self._lines().filtered(lambda line: line.reason == "redemption")
        self.assertEqual((redemption.points, redemption.user_id), (-4, self.user_librarian))
        with self.assertRaises(ValidationError):
            self._redeem(7)
        self._assert_balance(6)

    def test_manager_adjustment_records_who_did_it(self):
        Adjustment = self.env["library.points.adjustment"]
        Adjustment.with_user(self.user_manager).create(
            {"partner_id": self.reader.id, "points": 5, "description": "Points lost in migration"}
        ).action_confirm()
        line = self._lines()
        self.assertEqual(
            (line.points, line.reason, line.user_id), (5, "adjustment", self.user_manager)
        )
        with self.assertRaises(ValidationError):
            Adjustment.with_user(self.user_manager).create(
                {"partner_id": self.reader.id, "points": -6, "description": "Too much"}
            ).action_confirm()
        wizard = Adjustment.sudo().create(
            {"partner_id": self.reader.id, "points": 50, "description": "Generous"}
        )
        for user in (self.user_librarian, self.user_internal, self.user_portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                wizard.with_user(user).action_confirm()
        self._assert_balance(5)

    def test_deleting_spent_points_is_refused(self):
        self._suggestion()
        self._redeem(8)
        award = self._lines().filtered(lambda line: line.points > 0)
        with self.assertRaises(ValidationError):
            award.sudo().unlink()
        self._assert_balance(2)
        # Deleting what the balance allows keeps the balance right.
        redemption = self._lines().filtered(lambda line: line.points < 0)
        redemption.sudo().unlink()
        self._assert_balance(10)

    def test_merging_contacts_keeps_their_points(self):
        # A contact that earned points before it was known as the reader.
        duplicate = self.env["res.partner"].create({"name": "王晓明 (copy)"})
        self._suggestion()
        self.Transaction.sudo().create(
            {"partner_id": duplicate.id, "points": 3, "reason": "adjustment"}
        )
        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.reader | duplicate).ids, self.reader, extra_checks=False
        )
        self.assertFalse(duplicate.exists())
        self._assert_balance(13)


@tagged("post_install", "-at_install")
class TestPointsAdoption(PointsCase):
    def test_unadopting_reverses_once_and_readopting_awards_once(self):
        suggestion = self._suggestion()
        self._assert_balance(10)
        manager_suggestion = suggestion.with_user(self.user_manager)
        manager_suggestion.write({"adopted": False})
        reversal = self._lines().filtered(lambda line: line.reason == "award_reversed")
        self.assertEqual(reversal.points, -10)
        self.assertEqual((reversal.res_model, reversal.res_id), (suggestion._name, suggestion.id))
        self._assert_balance(0)
        manager_suggestion.write({"adopted": False})
        self.assertEqual(len(self._lines()), 2, "reversed once")
        manager_suggestion.write({"adopted": True})
        suggestion._award_points()
        self.assertEqual(len(self._lines()), 3, "awarded again once")
        self._assert_balance(10)
        manager_suggestion.write({"adopted": False})
        manager_suggestion.write({"adopted": True})
        self.assertEqual(
            sorted(self._lines().mapped("points")), [-10, -10, 10, 10, 10], "never double"
        )
        self._assert_balance(10)

    def test_unadopting_spent_points_takes_back_what_is_left(self):
        suggestion = self._suggestion()
        self._redeem(8)
        suggestion.with_user(self.user_manager).write({"adopted": False})
        reversal = self._lines().filtered(lambda line: line.reason == "award_reversed")
        self.assertEqual(reversal.points, -2)
        self._assert_balance(0)
        note = suggestion.message_ids.filtered(lambda m: "already spent" in str(m.body))
        self.assertIn("2 of the 10 points", str(note.body))
        # Adopting again gives back what was taken back: 10 earned in all.
        suggestion.with_user(self.user_manager).write({"adopted": True})
        self._assert_balance(2)
        self.assertEqual(
            sum(
                self._lines().filtered(lambda line: line.res_id == suggestion.id).mapped("points")
            ),
            10,
        )

    def test_unadopting_after_spending_everything_takes_nothing(self):
        suggestion = self._suggestion()
        self._redeem(10)
        suggestion.with_user(self.user_manager).write({"adopted": False})
        self._assert_balance(0)
        self.assertFalse(self._lines().filtered(lambda line: line.reason == "award_reversed"))
        suggestion.with_user(self.user_manager).write({"adopted": True})
        self._assert_balance(0)

    def test_only_managers_unadopt(self):
        suggestion = self._suggestion()
        with self.assertRaises(UserError):
            suggestion.with_user(self.user_librarian).write({"adopted": False})
        self._assert_balance(10)


@tagged("post_install", "-at_install")
class TestPointsSettings(PointsCase):
    def test_a_stored_zero_gives_no_points(self):
        ICP = self.env["ir.config_parameter"]
        for stored, expected in (("0", 0), ("", 10), ("7", 7), (False, 10)):
            # False removes the parameter, an emptied value is no value: the
            # default applies. A stored 0 is a value.
            ICP.set_param("library_crm.points_suggestion_adopted", stored)
            with self.subTest(stored=stored):
                suggestion = self._suggestion()
                earned = self._lines().filtered(lambda line, s=suggestion: line.res_id == s.id)
                self.assertEqual(sum(earned.mapped("points")), expected)


@tagged("post_install", "-at_install")
class TestPointsRpc(LibraryCrmHttpCase):
    def test_librarian_cannot_forge_points_over_rpc(self):
        reader = self.env["res.partner"].create({"name": "Reader RPC", "is_reader": True})
        self.authenticate_as(self.user_librarian)
        with self.assertRaises(JsonRpcException), mute_logger("odoo.http"):
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "library.points.transaction",
                    "method": "create",
                    "args": [[{"partner_id": reader.id, "points": 500, "reason": "adjustment"}]],
                    "kwargs": {"context": {"library_suggestion_step": True}},
                },
            )
        self.assertFalse(
            self.env["library.points.transaction"].search([("partner_id", "=", reader.id)])
        )


@tagged("post_install", "-at_install")
class TestPointsConcurrency(TransactionCase):
    """Two real transactions redeem most of the same balance at once."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            reader = env["res.partner"].create({"name": "并发读者", "is_reader": True})
            env["library.points.transaction"].create(
                {"partner_id": reader.id, "points": 10, "reason": "adjustment"}
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.reader_id = reader.id
        self.cursors = [self.registry.cursor(), self.registry.cursor()]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for cr in self.cursors:
            cr.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["res.partner"].browse(self.reader_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _redeem(self, env):
        env["library.points.redemption"].create(
            {"partner_id": self.reader_id, "points": 7, "description": "Printing credit"}
        ).action_confirm()

    def test_concurrent_redemptions_keep_the_balance(self):
        env1, env2 = (api.Environment(cr, SUPERUSER_ID, {}) for cr in self.cursors)
        # Both transactions start and see 10 points.
        for env in (env1, env2):
            self.assertEqual(env["res.partner"].browse(self.reader_id).points_balance, 10)
        self._redeem(env1)
        env1.cr.commit()
        # The second one, on its snapshot of 10 points, cannot commit...
        with self.assertRaises(SerializationFailure), mute_logger("odoo.sql_db"):
            self._redeem(env2)
        env2.cr.rollback()
        # ...and Odoo's retry sees the 3 points left and refuses cleanly.
        env2.transaction.reset()
        with self.assertRaises(ValidationError) as error:
            self._redeem(env2)
        self.assertIn("Not enough points", str(error.exception))
        env2.cr.rollback()
        env2.cr.commit()

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            reader = env["res.partner"].browse(self.reader_id)
            lines = env["library.points.transaction"].search([("partner_id", "=", reader.id)])
            self.assertEqual(sorted(lines.mapped("points")), [-7, 10], "exactly one redeemed")
            self.assertEqual(reader.points_balance, 3)
            self.assertEqual(sum(lines.mapped("points")), 3)
