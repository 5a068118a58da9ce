# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import LibraryCrmCase
from .test_satisfaction import SatisfactionCase

# A reader's library activity: library staff only.
ACTIVITY_FIELDS = [
    "library_metrics_id",
    "reader_segment",
    "is_core_reader",
    "core_reader_pinned",
    "loyalty_score",
    "loyalty_band",
    "loyalty_frequency",
    "loyalty_regularity",
    "loyalty_recency",
    "loyalty_breadth",
    "loyalty_satisfaction",
    "satisfaction_score",
    "usage_first_date",
    "last_activity_date",
    "usage_count_12m",
    "loan_count_12m",
    "active_months_12m",
    "usage_breadth",
    "usage_recent_6m",
    "usage_previous_6m",
    "participation_count",
    "usage_ids",
    "points_transaction_ids",
    "points_balance",
]


@tagged("post_install", "-at_install")
class TestReaderActivityPrivacy(LibraryCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.cr.execute(
            "UPDATE library_reader_metrics SET reader_segment = 'lapsed', loyalty_score = 42 "
            "WHERE partner_id = %s",
            [cls.reader.id],
        )
        cls.env["library.reader.metrics"].invalidate_model()
        # The portal user is a reader too: they open their own contact.
        cls.user_portal.partner_id.write({"is_reader": True, "reader_category": "public"})

    def test_activity_is_hidden_from_other_internal_users_and_portal(self):
        for user, partner in (
            (self.user_internal, self.reader),
            (self.user_portal, self.user_portal.partner_id),
        ):
            for field in ACTIVITY_FIELDS:
                with self.subTest(user=user.login, field=field):
                    with self.assertRaises(AccessError):
                        partner.with_user(user).read([field])
            with self.subTest(user=user.login, search="reader_segment"):
                with self.assertRaises(AccessError):
                    self.env["res.partner"].with_user(user).search(
                        [("reader_segment", "=", "lapsed")]
                    )
        with self.assertRaises(AccessError):
            self.env["library.reader.metrics"].with_user(self.user_internal).search([])

    def test_librarians_see_the_activity(self):
        values = self.reader.with_user(self.user_librarian).read(ACTIVITY_FIELDS)[0]
        self.assertEqual((values["reader_segment"], values["loyalty_score"]), ("lapsed", 42))
        found = (
            self.env["res.partner"]
            .with_user(self.user_librarian)
            .search([("reader_segment", "=", "lapsed"), ("id", "=", self.reader.id)])
        )
        self.assertEqual(found, self.reader)

    def test_partner_form_opens_for_users_without_the_activity(self):
        """get_views drops the fields of groups the user lacks; whatever is
        left (fields, invisible= expressions) must read without error."""
        for user, partner in (
            (self.user_internal, self.reader),
            (self.user_librarian, self.reader),
            (self.user_portal, self.user_portal.partner_id),
        ):
            with self.subTest(user=user.login):
                Partner = self.env["res.partner"].with_user(user)
                views = Partner.get_views([(False, "form"), (False, "list"), (False, "search")])
                form = views["views"]["form"]
                fields = list(views["models"]["res.partner"]["fields"])
                hidden = set(ACTIVITY_FIELDS) & set(fields)
                if user == self.user_librarian:
                    self.assertIn("loyalty_score", fields)
                    self.assertIn("Usage and Loyalty", form["arch"])
                else:
                    self.assertFalse(hidden, "activity fields are not sent to this user")
                    self.assertNotIn("reader_segment", form["arch"])
                    self.assertNotIn("Usage and Loyalty", form["arch"])
                # What the web client reads to open the form: the form's own
                # fields (its sub-views read their own records).
                arch = etree.fromstring(form["arch"])
                form_fields = {
                    node.get("name")
                    for node in arch.iter("field")
                    if not any(parent.tag == "field" for parent in node.iterancestors())
                }
                self.assertIn("is_reader", form_fields)
                if user == self.user_portal:
                    # The portal has no back-end: it cannot read the records
                    # of back-end models at all, activity or not.
                    form_fields = {
                        name
                        for name in form_fields
                        if not Partner._fields[name].relational
                        or self.env[Partner._fields[name].comodel_name]
                        .with_user(user)
                        .has_access("read")
                    }
                values = partner.with_user(user).web_read({name: {} for name in form_fields})
                self.assertEqual(values[0]["id"], partner.id)


@tagged("post_install", "-at_install")
class TestSatisfactionPrivacy(SatisfactionCase):
    def _readers(self, department, count, prefix):
        return self.env["res.partner"].create(
            [
                {
                    "name": f"{prefix} {n}",
                    "is_reader": True,
                    "reader_card_number": f"{prefix}{n}",
                    "library_department_id": department.id,
                }
                for n in range(count)
            ]
        )

    def test_test_entries_are_left_out(self):
        real = self._answer(self.reader, [4] * 8, overall=4, nps=9)
        test = self.survey._create_answer(
            partner=self.reader, check_attempts=False, test_entry=True
        )
        for question in self.dimension_questions | self.q_overall:
            test._save_lines(question, "1")
        test._save_lines(self.q_nps, "0")
        test._mark_done()
        self.assertTrue(test.test_entry)
        self.env.flush_all()
        for model in ("library.satisfaction.response", "library.satisfaction.answer"):
            records = self.env[model].search(
                [("survey_id", "=", self.survey.id), ("partner_id", "=", self.reader.id)]
            )
            self.assertEqual(records.user_input_id, real, model)
        self.env["library.satisfaction"]._recompute_scores(self.reader.ids)
        self.assertAlmostEqual(self.reader.satisfaction_score, 4.0)

    def test_views_honour_the_survey_access_rules(self):
        restricted = self.survey.copy({"title": "Directors only"})
        restricted.restrict_user_ids = self.user_manager
        user_input = restricted._create_answer(partner=self.reader, check_attempts=False)
        for question in restricted.question_ids.filtered(
            lambda q: q.library_role in ("dimension", "overall")
        ):
            user_input._save_lines(question, "3")
        user_input._mark_done()
        self.env.flush_all()
        for model in ("library.satisfaction.response", "library.satisfaction.answer"):
            domain = [("survey_id", "=", restricted.id)]
            with self.subTest(model=model):
                self.assertFalse(
                    self.env["survey.user_input"]
                    .with_user(self.user_librarian)
                    .search([("survey_id", "=", restricted.id)]),
                    "the survey's own rule",
                )
                self.assertFalse(self.env[model].with_user(self.user_librarian).search(domain))
                self.assertTrue(self.env[model].with_user(self.user_manager).search(domain))

    @freeze_time("2026-11-20 10:00:00")
    def test_report_hides_small_groups_and_exact_dates(self):
        big = self.env["library.department"].create({"name": "Big Faculty", "code": "BIGF"})
        small = self.env["library.department"].create({"name": "Tiny Institute", "code": "TINY"})
        for reader in self._readers(big, 5, "BIG"):
            self._answer(reader, [4] * 8, overall=4, nps=9, comment="Longer opening hours")
        self._answer(
            self._readers(small, 1, "TINY"), [1] * 8, overall=1, nps=0, comment="Rude desk staff"
        )
        self.user_manager.lang = "en_US"  # the report speaks the user's language
        report = Form(self.env["library.satisfaction.report"].with_user(self.user_manager)).save()
        data = report._report_data()
        departments = {row[0]: row for row in data["departments"]}
        self.assertTrue(departments["Big Faculty"][4])
        self.assertFalse(departments["Tiny Institute"][4], "1 respondent: no figures")
        html = (
            self.env["ir.actions.report"]
            .with_user(self.user_manager)
            ._render_qweb_html("library_crm.action_report_satisfaction", report.ids)[0]
            .decode()
        )
        self.assertIn("Tiny Institute", html)
        self.assertIn("fewer than 5", html)
        self.assertIn("Rude desk staff", html)
        # The quote of the tiny institute gives neither its department nor its day.
        ours = {"Rude desk staff", "Longer opening hours"}
        quotes = {
            comment: (department, month)
            for comment, department, month in data["comments"]
            if comment in ours
        }
        self.assertEqual(quotes["Rude desk staff"], ("", "Nov 2026"))
        self.assertEqual(quotes["Longer opening hours"], ("Big Faculty", "Nov 2026"))
        self.assertNotIn("11/20/2026", html)
        self.assertNotIn("2026-11-20", html)
