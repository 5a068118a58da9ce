# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The department writes its own review (#15 §6): the facts of a review count
the department's sub-departments."""

from freezegun import freeze_time

from odoo.tests import tagged

from .common import LibraryCrmCase


@tagged("post_install", "-at_install")
class TestReviewFactsOfSubDepartments(LibraryCrmCase):
    """A liaison of a 学院 (the School of Science) is credited with the work
    logged against its 系 (Computer Science, Mathematics), once each."""

    @freeze_time("2026-12-01 08:00:00")
    def test_parent_department_counts_its_subtree_once(self):
        liaison = self.user_librarian
        Interaction = self.env["library.interaction"]
        for values in (
            {"partner_id": self.reader.id},  # a reader of Computer Science
            {"department_id": self.dept_math.id},  # Mathematics itself
            {"department_id": self.school.id},  # the school itself
            {"department_id": self.dept_hist.id},  # outside the school
        ):
            Interaction.create(
                {
                    "summary": "Visit",
                    "date": "2026-05-01 09:00:00",
                    "user_id": liaison.id,
                    **values,
                }
            )
        project = self.env["library.research.project"].create(
            {
                "title": "Graph neural networks",
                "department_id": self.dept_cs.id,
                "principal_investigator_id": self.reader.id,
                "liaison_user_id": liaison.id,
                "date_start": "2026-01-01",
            }
        )
        Deliverable = self.env["library.liaison.deliverable"]
        for values in (
            {"project_id": project.id, "department_id": self.dept_cs.id},
            {"department_id": self.dept_math.id},
        ):
            Deliverable.create(
                {
                    "title": "Guide",
                    "kind": "subject_guide",
                    "date": "2026-06-01",
                    "liaison_user_id": liaison.id,
                    **values,
                }
            )
        unit = self.env["library.unit"].create({"name": "Own Review Unit"})
        category = self.env["library.suggestion.category"].create(
            {"name": "Own Review Category", "default_unit_id": unit.id}
        )
        self.env["library.suggestion"].create(
            {"partner_id": self.reader.id, "category_id": category.id, "subject": "E-books"}
        )
        Review = self.env["library.liaison.review"]
        facts = {}
        for department in (self.school, self.dept_cs, self.dept_math, self.dept_hist):
            review = Review.create(
                {"year": 2026, "department_id": department.id, "liaison_user_id": liaison.id}
            )
            facts[department] = [
                review.interaction_count,
                review.contacted_reader_count,
                review.deliverable_count,
                review.project_count,
                review.suggestion_count,
            ]
        self.assertEqual(
            facts,
            {
                self.school: [3, 1, 2, 1, 1],
                self.dept_cs: [1, 1, 1, 1, 1],
                self.dept_math: [1, 0, 1, 0, 0],
                self.dept_hist: [1, 0, 0, 0, 0],
            },
        )
