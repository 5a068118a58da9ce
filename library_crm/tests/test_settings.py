# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.modules.module import Manifest
from odoo.tests import TransactionCase, tagged
from odoo.tools import file_open, mute_logger, str2bool
from odoo.tools.safe_eval import safe_eval, time

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


@tagged("post_install", "-at_install")
class TestDataFiles(TransactionCase):
    """What a library edits in its crons and mail templates survives an
    update of the addon; no cron fires the moment the addon is installed."""

    def _data_records(self, models_):
        """(file, record element, noupdate) of every record of these models
        in the addon's data files."""
        manifest = Manifest.for_addon("library_crm")
        found = []
        for name in manifest["data"]:
            if not name.endswith(".xml"):
                continue
            with file_open(f"library_crm/{name}", "rb") as handle:
                root = etree.parse(handle).getroot()
            for record in root.iter("record"):
                if record.get("model") not in models_:
                    continue
                # The nearest enclosing element that says decides.
                flags = [
                    element.get("noupdate")
                    for element in record.iterancestors("data", "odoo")
                    if element.get("noupdate") is not None
                ]
                noupdate = str2bool(flags[0], False) if flags else False
                found.append((name, record, noupdate))
        return found

    def test_crons_and_templates_are_noupdate(self):
        records = self._data_records({"ir.cron", "mail.template"})
        self.assertGreaterEqual(len(records), 10)
        for name, record, noupdate in records:
            with self.subTest(record=record.get("id")):
                self.assertTrue(noupdate, f"{record.get('id')} in {name} is updated by -u")
                xmlid = record.get("id")
                data = self.env["ir.model.data"].search(
                    [("module", "=", "library_crm"), ("name", "=", xmlid)]
                )
                self.assertTrue(data.noupdate, xmlid)

    def test_no_cron_fires_on_installation(self):
        """Every cron's first call is in the future, whatever the day of
        installation (the yearly review cron was set to 1 December of the
        current year: installed in December, it fired at once)."""
        crons = self._data_records({"ir.cron"})
        days = [
            datetime(2026, 12, 15, 10, 0),
            datetime(2026, 12, 1, 1, 0),
            datetime(2026, 12, 31, 23, 0),
            datetime(2027, 1, 1, 0, 30),
            datetime(2027, 6, 30, 12, 0),
            datetime(2027, 11, 30, 23, 59),
        ]
        for day in days:
            with freeze_time(day):
                context = {
                    "DateTime": datetime,
                    "datetime": datetime,
                    "relativedelta": relativedelta,
                    "time": time,
                }
                for _name, record, _noupdate in crons:
                    field = record.find("field[@name='nextcall']")
                    nextcall = fields.Datetime.to_datetime(safe_eval(field.get("eval"), context))
                    with self.subTest(cron=record.get("id"), day=day):
                        self.assertGreater(nextcall, day)
