# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

from ..models.library_rights import check_manager


class LibrarySegmentSummary(models.TransientModel):
    """Period summary of segments for managers (PDF): a handful of grouped
    queries whatever the number of readers."""

    _name = "library.segment.summary"
    _inherit = "library.period.mixin"
    _description = "Reader Segments Period Summary"

    def action_print(self):
        self.ensure_one()
        check_manager(self.env)
        self.check_access("write")  # the caller's own wizard
        return self.env.ref("library_crm.action_report_segment_summary").report_action(self)

    def _labels(self, model, field):
        return dict(self.env[model]._fields[field]._description_selection(self.env))

    def _summary_data(self):
        self.ensure_one()
        Partner = self.env["res.partner"]
        History = self.env["library.segment.history"]
        segment_labels = self._labels("res.partner", "reader_segment")
        readers = [("is_reader", "=", True)]
        segments = dict(Partner._read_group(readers, ["reader_segment"], ["__count"]))
        total = sum(segments.values())
        period = [("date", ">=", self.date_from), ("date", "<=", self.date_to)]
        flows = History._read_group(
            [("change", "=", "segment"), ("from_segment", "!=", False), *period],
            ["from_segment", "to_segment"],
            ["__count"],
            order="__count desc",
        )
        Engine = self.env["library.segmentation"]
        overall = Engine._conversion(self.date_from, self.date_to)
        cohort, converted = (overall[0][1], overall[0][2]) if overall else (0, 0)
        category_labels = self._labels("res.partner", "reader_category")
        department_names = {
            dept.id: dept.display_name
            for dept in self.env["library.department"].browse(
                [
                    grp
                    for grp, *_rest in Engine._conversion(
                        self.date_from, self.date_to, "department"
                    )
                    if grp
                ]
            )
        }

        def by(groupby, label):
            return [
                (label(grp), size, conv, share)
                for grp, size, conv, share in Engine._conversion(
                    self.date_from, self.date_to, groupby
                )
            ]

        none = self.env._("Not set")
        core_changes = dict(
            History._read_group([("change", "=", "core"), *period], ["became_core"], ["__count"])
        )
        departments = Partner._read_group(
            [*readers, ("library_department_id", "!=", False)],
            ["library_department_id"],
            ["__count", "loyalty_score:avg"],
            order="loyalty_score:avg desc",
            limit=10,
        )
        core_by_department = dict(
            Partner._read_group(
                [*readers, ("is_core_reader", "=", True)], ["library_department_id"], ["__count"]
            )
        )
        usage = self.env["library.usage"]._read_group(
            self._datetime_domain("occurred_at", self.date_from, self.date_to),
            ["kind"],
            ["quantity:sum"],
            order="quantity:sum desc",
        )
        kind_labels = self._labels("library.usage", "kind")
        return {
            "total": total,
            "segments": [
                (
                    label,
                    segments.get(code, 0),
                    100.0 * segments.get(code, 0) / total if total else 0,
                )
                for code, label in segment_labels.items()
            ],
            "core": Partner.search_count([*readers, ("is_core_reader", "=", True)]),
            "core_in": core_changes.get(True, 0),
            "core_out": core_changes.get(False, 0),
            "flows": [
                (segment_labels.get(src, src), segment_labels.get(dst, dst), count)
                for src, dst, count in flows
            ],
            "converted": converted,
            "cohort": cohort,
            "conversion": 100.0 * converted / cohort if cohort else 0.0,
            "conversion_by": [
                (
                    self.env._("Department"),
                    by("department", lambda grp: department_names.get(grp) or none),
                ),
                (
                    self.env._("Reader Category"),
                    by("category", lambda grp: category_labels.get(grp) or none),
                ),
                (
                    self.env._("Enrollment Year"),
                    by("enrollment_year", lambda grp: str(grp) if grp else none),
                ),
            ],
            "departments": [
                (dept.display_name, count, avg or 0.0, core_by_department.get(dept, 0))
                for dept, count, avg in departments
            ],
            "usage": [(kind_labels.get(kind, kind), quantity) for kind, quantity in usage],
        }
