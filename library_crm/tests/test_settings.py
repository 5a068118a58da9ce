# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.library_crm.models.res_config_settings import SETTINGS, get_setting

from .common import LibraryCrmCase

ZEROS = {
    "library_points_suggestion_adopted": 0,
    "library_points_survey_answered": 0,
    "library_satisfaction_survey_weight": 0,
    "library_journey_cap_days": 0,
    "library_growth_percent": 0,
    "library_core_percent": 0,
}


@tagged("post_install", "-at_install")
class TestSettings(LibraryCrmCase):
    def _save(self, values):
        settings = self.env["res.config.settings"].create(values)
        settings.execute()
        return settings

    def test_zero_stays_zero(self):
        """A library that sets points, a weight, a cap or a share to 0 keeps
        0: Odoo's config_parameter fields would store it as unset."""
        self._save(ZEROS)
        params = self.env["ir.config_parameter"].sudo()
        for name in ZEROS:
            key = name.removeprefix("library_")
            self.assertEqual(params.get_param(f"library_crm.{key}"), "0", key)
            self.assertEqual(get_setting(self.env, key), 0, key)
        shown = self.env["res.config.settings"].default_get(list(ZEROS))
        self.assertEqual({name: shown[name] for name in ZEROS}, ZEROS)
        self.assertEqual(self.env["library.segmentation"]._settings()["growth_percent"], 0)
        self.assertEqual(self.env["library.satisfaction"]._survey_weight(), 0)
        self.assertEqual(self.env["library.journey"]._cap_days(), 0)
        # Saving the screen again, unchanged, keeps them.
        self._save({name: shown[name] for name in ZEROS})
        self.assertEqual(get_setting(self.env, "points_survey_answered"), 0)

    def test_values_are_stored_and_read_back(self):
        self._save({"library_journey_cap_days": 14, "library_retention_years": 5})
        self.assertEqual(self.env["library.journey"]._cap_days(), 14)
        self.assertEqual(self.env["library.segmentation"]._settings()["retention_years"], 5)
        shown = self.env["res.config.settings"].default_get(["library_retention_years"])
        self.assertEqual(shown["library_retention_years"], 5)

    def test_defaults_in_one_place(self):
        """Never set: the default of SETTINGS, on the screen and in the code."""
        params = self.env["ir.config_parameter"].sudo()
        for key in SETTINGS:
            params.set_param(f"library_crm.{key}", False)
        shown = self.env["res.config.settings"].default_get([f"library_{k}" for k in SETTINGS])
        for key, (default, _low, _high) in SETTINGS.items():
            self.assertEqual(get_setting(self.env, key), default, key)
            self.assertEqual(shown[f"library_{key}"], default, key)

    def test_invalid_settings_are_refused(self):
        invalid = [
            {"library_points_suggestion_adopted": -1},
            {"library_points_survey_answered": -5},
            {"library_satisfaction_survey_weight": 101},
            {"library_satisfaction_survey_weight": -1},
            {"library_journey_cap_days": -1},
            {"library_retention_years": 0},
            {"library_retention_years": 101},
            {"library_core_percent": 101},
            {"library_growth_percent": -1},
            {"library_long_term_months": 13},
            {"library_new_days": 0},
            {"library_max_departments_per_liaison": 0},
        ]
        for values in invalid:
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.env["res.config.settings"].create(values)

    @mute_logger("odoo.addons.library_crm.models.res_config_settings")
    def test_hand_set_parameters_are_kept_in_bounds(self):
        """A system parameter edited by hand cannot detach all usage or give
        negative points: the reader keeps every setting within its bounds."""
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("library_crm.retention_years", "0")
        params.set_param("library_crm.points_suggestion_adopted", "-10")
        params.set_param("library_crm.journey_cap_days", "seven")
        self.assertEqual(get_setting(self.env, "retention_years"), 1)
        self.assertEqual(get_setting(self.env, "points_suggestion_adopted"), 0)
        self.assertEqual(get_setting(self.env, "journey_cap_days"), 7)

    def test_only_administrators_change_settings(self):
        settings = self.env["res.config.settings"].create({"library_journey_cap_days": 1})
        for user in (
            self.user_portal,
            self.user_internal,
            self.user_librarian,
            self.user_manager,
        ):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                settings.with_user(user).set_values()
        self.assertEqual(get_setting(self.env, "journey_cap_days"), 7)
