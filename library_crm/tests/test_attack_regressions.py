# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Defects found by attacking the merged change of issue #13 as a hostile
logged-in user (JSON-RPC with any ids and context, malformed imports). Each
test failed before its fix."""

import base64
import csv
import io
import os
import subprocess
import sys
import tempfile

import odoo
from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase
from odoo.tests.common import JsonRpcException
from odoo.tools import config

from .common import LibraryCrmCase
from .test_satisfaction import SatisfactionCase

HOSTILE_CONTEXT = {
    "library_suggestion_step": True,
    "library_consent_channel": "portal",
    "active_test": False,
    "bypass": True,
    "tracking_disable": True,
}


class TestActivityNotAggregatedByOutsiders(LibraryCrmCase, HttpCase):
    """Grouping, aggregating or ordering readers by a related activity field
    (reader_segment, loyalty_score...) went through Odoo's SQL of the
    related field, as superuser, without the field's groups=: any internal
    or portal user counted readers per segment and averaged their loyalty."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.cr.execute(
            "UPDATE library_reader_metrics SET reader_segment = 'lapsed', loyalty_score = 42 "
            "WHERE partner_id = %s",
            [cls.reader.id],
        )
        cls.env["library.reader.metrics"].invalidate_model()
        cls.user_portal.partner_id.write({"is_reader": True, "reader_category": "public"})

    def _rpc(self, user, method, args, kwargs=None):
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/res.partner/{method}",
            {
                "model": "res.partner",
                "method": method,
                "args": args,
                "kwargs": dict(kwargs or {}, context=HOSTILE_CONTEXT),
            },
        )

    def _calls(self, partner):
        domain = [("id", "=", partner.id)]
        return [
            ("formatted_read_group", [domain, ["reader_segment"]], {"aggregates": ["__count"]}),
            (
                "formatted_read_group",
                [domain, ["reader_category"]],
                {"aggregates": ["loyalty_score:avg"]},
            ),
            ("read_group", [domain, ["loyalty_score:avg"], ["reader_category"]], {}),
            ("search_read", [domain], {"fields": ["name"], "order": "loyalty_score desc"}),
        ]

    def test_refused_over_json_rpc(self):
        for user, partner in (
            (self.user_internal, self.reader),
            (self.user_portal, self.user_portal.partner_id),
        ):
            for method, args, kwargs in self._calls(partner):
                with self.subTest(user=user.login, method=method, args=args, kwargs=kwargs):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._rpc(user, method, args, kwargs)
                    self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")

    def test_refused_to_outsiders_allowed_to_librarians(self):
        Partner = self.env["res.partner"]
        domain = [("id", "=", self.reader.id)]
        for user in (self.user_internal, self.user_portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                Partner.with_user(user).formatted_read_group(
                    domain, ["reader_segment"], ["loyalty_score:sum"]
                )
        groups = Partner.with_user(self.user_librarian).formatted_read_group(
            domain, ["reader_segment"], ["loyalty_score:sum"]
        )
        self.assertEqual(
            [(g["reader_segment"], g["loyalty_score:sum"]) for g in groups], [("lapsed", 42)]
        )
        self.assertEqual(
            Partner.with_user(self.user_librarian).search(domain, order="loyalty_score desc"),
            self.reader,
        )


class TestUsageImportYears(LibraryCrmCase):
    """A usage date of year 1 or 9999 passed every check; moved to UTC from
    the importer's time zone it became 1 BC or 10000, which Python cannot
    read: every list of the reader's usage and the segmentation engine
    failed ("year -1 is out of range")."""

    def _import(self, content, tz):
        self.user_manager.tz = tz
        wizard = (
            self.env["library.usage.import"]
            .with_user(self.user_manager)
            .create({"file": base64.b64encode(content.encode()), "source": "atk"})
        )
        wizard.action_import()
        return wizard

    def test_years_out_of_range_are_rejected_rows(self):
        for day, (tz, bad_date) in enumerate(
            (
                ("Asia/Shanghai", "0001-01-01 00:00"),
                ("America/New_York", "9999-12-31 23:59"),
                ("UTC", "1899-12-31 10:00"),
            ),
            start=1,
        ):
            with self.subTest(tz=tz, date=bad_date):
                content = (
                    "card number,kind,date\n"
                    f"2024000001,loan,{bad_date}\n"
                    f"2024000001,visit,2026-03-0{day} 10:00\n"
                )
                wizard = self._import(content, tz)
                self.assertEqual((wizard.imported_count, wizard.rejected_count), (1, 1))
                rows = list(
                    csv.reader(
                        io.StringIO(base64.b64decode(wizard.rejected_file).decode("utf-8-sig"))
                    )
                )
                self.assertEqual(
                    rows[1][:2], ["2", "The year of the date is not between 1900 and 2999."]
                )
        usage = self.env["library.usage"].with_user(self.user_manager)
        found = usage.search_read([("partner_id", "=", self.reader.id)], ["occurred_at"])
        self.assertEqual(len(found), 3)
        self.env["library.segmentation"]._recompute(full=False, partner_ids=self.reader.ids)

    def test_the_limits_themselves_are_imported(self):
        wizard = self._import(
            "card number,kind,date\n"
            "2024000001,loan,1900-01-01 12:00\n"
            "2024000001,loan,2999-12-31 12:00\n",
            "Asia/Shanghai",
        )
        self.assertEqual((wizard.imported_count, wizard.rejected_count), (2, 0))


class TestPointsBalanceOfAnotherLibrary(LibraryCrmCase):
    """library.points.balance had no company rule: a librarian of one
    library read the points (and the names) of another library's readers,
    whose points lines the transaction rule already hid."""

    def test_balance_follows_the_reader_company(self):
        company_b = self.env["res.company"].create({"name": "Library B"})
        librarian_b = self._new_user(
            "lib_librarian_b",
            "library_crm.group_library_librarian",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        reader_b = self.env["res.partner"].create(
            {"name": "Reader of B", "is_reader": True, "company_id": company_b.id}
        )
        shared = self.env["res.partner"].create({"name": "Shared Reader", "is_reader": True})
        Transaction = self.env["library.points.transaction"].sudo()
        Transaction.create({"partner_id": reader_b.id, "points": 7, "company_id": company_b.id})
        Transaction.create({"partner_id": shared.id, "points": 3})
        readers = (reader_b | shared).ids
        for user, visible in ((self.user_librarian, shared), (librarian_b, reader_b | shared)):
            with self.subTest(user=user.login):
                Balance = self.env["library.points.balance"].with_user(user)
                self.assertEqual(
                    Balance.search([("partner_id", "in", readers)]).partner_id, visible
                )
                for row in Balance.sudo().search([("partner_id", "in", readers)]):
                    if row.partner_id not in visible:
                        with self.assertRaises(AccessError):
                            row.with_user(user).read(["balance"])


class TestReadersFollowedByLibraryStaffOnly(LibraryCrmCase):
    """The responsible librarian's domain only filtered the form: over RPC a
    librarian gave their readers (and, through the hand-over, their open
    suggestions) to a plain internal user or a portal user, who cannot even
    open them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reader.responsible_librarian_id = cls.user_librarian

    def test_write_refuses_a_user_outside_the_library(self):
        for caller in (self.user_librarian, self.user_manager):
            for user in (self.user_internal, self.user_portal):
                with self.subTest(caller=caller.login, user=user.login):
                    with self.assertRaises(ValidationError):
                        self.reader.with_user(caller).with_context(**HOSTILE_CONTEXT).write(
                            {"responsible_librarian_id": user.id}
                        )
        self.reader.with_user(self.user_librarian).responsible_librarian_id = self.user_librarian_2
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian_2)

    def test_handover_refuses_a_user_outside_the_library(self):
        for caller in (self.user_librarian, self.user_manager):
            for user in (self.user_internal, self.user_portal):
                with self.subTest(caller=caller.login, user=user.login):
                    wizard = (
                        self.env["library.handover"]
                        .with_user(caller)
                        .create(
                            {
                                "from_user_id": self.user_librarian.id,
                                "to_user_id": user.id,
                                "partner_ids": [Command.set(self.reader.ids)],
                            }
                        )
                    )
                    with self.assertRaises(UserError):
                        wizard.with_context(**HOSTILE_CONTEXT).action_handover()
        self.assertEqual(self.reader.responsible_librarian_id, self.user_librarian)


class TestOneSuggestionPerSurveyResponse(SatisfactionCase):
    """The form hid "Create Suggestion" once a response had one or while it
    was unfinished; over RPC each librarian's call made another suggestion
    from the same comment, and an unfinished response made one too."""

    def test_a_response_becomes_one_suggestion(self):
        response = self._answer(self.reader, [2] * 8, overall=2, nps=3, comment="太吵了")
        action = response.with_user(self.user_librarian).action_library_create_suggestion()
        suggestion = self.env["library.suggestion"].browse(action["res_id"])
        for user in (self.user_librarian, self.user_librarian_2, self.user_manager):
            with self.subTest(user=user.login), self.assertRaises(UserError):
                response.with_user(user).with_context(
                    **HOSTILE_CONTEXT
                ).action_library_create_suggestion()
        self.assertEqual(response.library_suggestion_ids, suggestion)

    def test_an_unfinished_response_does_not(self):
        started = self.survey._create_answer(partner=self.reader, check_attempts=False)
        started._save_lines(self.q_comment, "还没填完")
        with self.assertRaises(UserError):
            started.with_user(self.user_librarian).action_library_create_suggestion()
        self.assertFalse(started.library_suggestion_ids)


class TestEngineFieldsNotWrittenByUsers(LibraryCrmCase):
    """library_metrics_id and satisfaction_score are readonly in the form
    only: over RPC a librarian pointed a reader at another reader's metrics
    row (their segment, loyalty, core status) and set any satisfaction."""

    def test_write_and_create_refused(self):
        other = self.env["res.partner"].create({"name": "李华", "is_reader": True})
        own_metrics = self.reader.library_metrics_id
        self.assertTrue(own_metrics and other.library_metrics_id)
        for user in (self.user_librarian, self.user_manager, self.user_internal, self.user_portal):
            for vals in (
                {"library_metrics_id": other.library_metrics_id.id},
                {"satisfaction_score": 5},
            ):
                with self.subTest(user=user.login, vals=vals), self.assertRaises(AccessError):
                    self.reader.with_user(user).with_context(**HOSTILE_CONTEXT).write(vals)
            with self.subTest(user=user.login, create=True), self.assertRaises(AccessError):
                self.env["res.partner"].with_user(user).create(
                    {"name": "新读者", "is_reader": True, "satisfaction_score": 4.5}
                )
        self.assertEqual(self.reader.library_metrics_id, own_metrics)
        self.assertEqual(self.reader.satisfaction_score, 0)

    def test_unchanged_values_pass(self):
        reader = self.reader.with_user(self.user_librarian)
        reader.write(
            {
                "library_metrics_id": self.reader.library_metrics_id.id,
                "satisfaction_score": 0,
                "reader_category": "postgraduate",
            }
        )
        self.assertEqual(self.reader.reader_category, "postgraduate")


class TestMergingReaders(LibraryCrmCase):
    """Merging two readers (duplicates after an import) failed for everyone
    ("a reader has one row of metrics"); and Odoo's merge keeps any True,
    so a reader's "no" to a purpose became a "yes" from the duplicate."""

    def test_merge_two_readers_keeps_every_no(self):
        admin = self.env.ref("base.user_admin")
        duplicate = self.env["res.partner"].create(
            {"name": "王晓明 (重复)", "is_reader": True, "reader_category": "undergraduate"}
        )
        self.reader.with_user(self.user_librarian).write({"consent_news": False})
        self.assertTrue(self.reader.consent_chosen)
        self.assertTrue(duplicate.consent_news)
        self.env["base.partner.merge.automatic.wizard"].with_user(admin)._merge(
            (duplicate | self.reader).ids, self.reader, extra_checks=False
        )
        self.assertFalse(duplicate.exists())
        self.assertFalse(self.reader.consent_news)
        self.assertTrue(self.reader.consent_chosen)
        metrics = self.env["library.reader.metrics"].search([("partner_id", "=", self.reader.id)])
        self.assertEqual(len(metrics), 1)
        self.assertEqual(self.reader.library_metrics_id, metrics)

    def test_the_duplicate_no_wins_too(self):
        admin = self.env.ref("base.user_admin")
        duplicate = self.env["res.partner"].create({"name": "王晓明 (重复)", "is_reader": True})
        duplicate.with_user(self.user_librarian).write({"consent_surveys": False})
        self.env["base.partner.merge.automatic.wizard"].with_user(admin)._merge(
            (duplicate | self.reader).ids, self.reader, extra_checks=False
        )
        self.assertFalse(self.reader.consent_surveys)
        self.assertTrue(self.reader.consent_news)
        log = self.env["library.consent.log"].search(
            [("partner_id", "=", self.reader.id), ("purpose", "=", "surveys")], limit=1
        )
        self.assertEqual((log.consent, log.channel), (False, "staff"))


class TestUsageCommandExitStatus(LibraryCrmCase):
    """Odoo's command runner ignores what a command's run() returns: the
    import command exited 0 when a file could not be imported, so a
    scheduled load never learned of it. Run for real, in its own process."""

    def test_a_file_not_imported_exits_1(self):
        odoo_bin = os.path.join(os.path.dirname(next(iter(odoo.__path__))), "odoo-bin")
        addons = config["addons_path"]
        addons = addons if isinstance(addons, str) else ",".join(addons)
        with tempfile.TemporaryDirectory() as folder:
            missing = os.path.join(folder, "missing.csv")
            command = [sys.executable, odoo_bin, f"--addons-path={addons}"]
            command += ["library_usage_import", "-d", self.env.cr.dbname, "--source", "atk"]
            if config.rcfile and os.path.exists(config.rcfile):
                command += ["-c", config.rcfile]
            done = subprocess.run(
                [*command, missing], capture_output=True, text=True, timeout=300, check=False
            )
        self.assertIn("missing.csv: not imported", done.stderr)
        self.assertEqual(done.returncode, 1)


class TestUploadSizeLimit(LibraryCrmCase):
    """The size check counted Base64's padding as file content: a file of
    exactly the limit was refused as larger than it."""

    def test_exactly_the_limit_passes_one_byte_more_does_not(self):
        self.env["ir.config_parameter"].sudo().set_param("library_crm.import_max_mb", "1")
        header = b"card number,kind,date\n2024000001,loan,2026-03-01 10:00\n"
        for size in (1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1):
            content = header + b"\n" * (size - len(header))
            wizard = (
                self.env["library.usage.import"]
                .with_user(self.user_manager)
                .create({"file": base64.b64encode(content), "source": f"size{size}"})
            )
            with self.subTest(size=size):
                if size > 1024 * 1024:
                    with self.assertRaisesRegex(UserError, "larger than 1 MB"):
                        wizard.action_import()
                else:
                    wizard.action_import()
                    self.assertEqual((wizard.imported_count, wizard.rejected_count), (1, 0))
