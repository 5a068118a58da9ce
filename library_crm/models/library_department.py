# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .res_config_settings import SETTINGS, get_setting

DEFAULT_MAX_DEPARTMENTS_PER_LIAISON = SETTINGS["max_departments_per_liaison"][0]


class LibraryDepartment(models.Model):
    _name = "library.department"
    _description = "Department"
    _inherit = ["library.code.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "sequence, code, name"
    _check_company_auto = True
    _rec_names_search = ["name", "code"]
    _parent_store = True

    name = fields.Char(required=True, translate=True, tracking=True)
    code = fields.Char(tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    parent_id = fields.Many2one(
        "library.department",
        string="Parent Unit",
        index=True,
        ondelete="restrict",
        domain="[('company_id', '=', company_id)]",
        check_company=True,
        help="The faculty or school this department belongs to.",
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("library.department", "parent_id", string="Sub-units")
    major_ids = fields.One2many("library.major", "department_id", string="Majors")
    liaison_user_ids = fields.Many2many(
        "res.users",
        "library_department_liaison_rel",
        "department_id",
        "user_id",
        string="Liaison Librarians",
        domain=lambda self: [
            ("all_group_ids", "in", self.env.ref("library_crm.group_library_librarian").id)
        ],
        tracking=True,
        help="Librarians responsible for this department (subject librarians).",
    )
    description = fields.Html(
        help="Research areas, history and particular needs of the department."
    )
    contact_ids = fields.Many2many(
        "res.partner",
        "library_department_contact_rel",
        "department_id",
        "partner_id",
        string="Department Contacts",
        help="The department's own people the library deals with: dean, "
        "research secretary, library committee member...",
    )
    review_contact_id = fields.Many2one(
        "res.partner",
        domain="[('id', 'in', contact_ids)]",
        help="Writes the department's yearly summary of its liaison librarians.",
    )
    project_ids = fields.One2many("library.research.project", "department_id")
    reader_count = fields.Integer(compute="_compute_reader_count")
    faculty_count = fields.Integer(compute="_compute_reader_count")
    major_count = fields.Integer(compute="_compute_major_count")
    project_count = fields.Integer(compute="_compute_liaison_counts")
    deliverable_count = fields.Integer(compute="_compute_liaison_counts")
    interaction_count = fields.Integer(compute="_compute_liaison_counts")
    open_suggestion_count = fields.Integer(
        compute="_compute_liaison_counts", string="Open Suggestions"
    )
    last_contact_date = fields.Datetime(compute="_compute_liaison_counts")
    days_since_contact = fields.Integer(compute="_compute_liaison_counts")

    _code_company_unique = models.UniqueIndex(
        "(company_id, code)",
        "A department with this code already exists in this company.",
    )

    @api.depends("parent_id")
    def _compute_display_name(self):
        for department in self:
            names = []
            unit = department
            while unit:
                names.append(unit.name or "")
                unit = unit.parent_id
            department.display_name = " / ".join(reversed(names))

    def _compute_reader_count(self):
        groups = self.env["res.partner"]._read_group(
            [("is_reader", "=", True), ("library_department_id", "child_of", self.ids)],
            ["library_department_id", "reader_category"],
            ["__count"],
        )
        for department in self:
            own = [
                (category, count)
                for dept, category, count in groups
                if str(department.id) in dept.parent_path.split("/")
            ]
            department.reader_count = sum(count for _category, count in own)
            department.faculty_count = sum(
                count for category, count in own if category == "faculty"
            )

    def _compute_liaison_counts(self):
        def counts(model, domain=()):
            return dict(
                self.env[model]._read_group(
                    [("department_id", "in", self.ids), *domain], ["department_id"], ["__count"]
                )
            )

        projects = counts("library.research.project")
        deliverables = counts("library.liaison.deliverable")
        interactions = counts("library.interaction")
        suggestions = counts("library.suggestion", [("is_open", "=", True)])
        last_contacts = dict(
            self.env["library.contact.timeline"]._read_group(
                [("department_id", "in", self.ids)], ["department_id"], ["date:max"]
            )
        )
        now = fields.Datetime.now()
        for department in self:
            last = last_contacts.get(department, False)
            department.project_count = projects.get(department, 0)
            department.deliverable_count = deliverables.get(department, 0)
            department.interaction_count = interactions.get(department, 0)
            department.open_suggestion_count = suggestions.get(department, 0)
            department.last_contact_date = last
            department.days_since_contact = (now - last).days if last else 0

    def _compute_major_count(self):
        counts = dict(
            self.env["library.major"]._read_group(
                [("department_id", "in", self.ids)], ["department_id"], ["__count"]
            )
        )
        for department in self:
            department.major_count = counts.get(department, 0)

    @api.constrains("parent_id")
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(self.env._("A department cannot be its own parent."))

    @api.constrains("liaison_user_ids", "active")
    def _check_liaison_limit(self):
        limit = self._get_max_departments_per_liaison()
        users = self.liaison_user_ids
        if not users:
            return
        counts = self.sudo()._read_group(
            [("liaison_user_ids", "in", users.ids)], ["liaison_user_ids"], ["__count"]
        )
        for user, count in counts:
            if user in users and count > limit:
                raise ValidationError(
                    self.env._(
                        "%(user)s would be liaison librarian for %(count)s "
                        "departments; the library allows at most %(limit)s per "
                        "librarian (Library CRM > Configuration > Settings).",
                        user=user.name,
                        count=count,
                        limit=limit,
                    )
                )

    @api.model
    def _get_max_departments_per_liaison(self):
        return get_setting(self.env, "max_departments_per_liaison")

    def action_view_readers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_reader")
        action["domain"] = [("library_department_id", "child_of", self.id)]
        action["context"] = {
            "default_is_reader": True,
            "default_library_department_id": self.id,
        }
        return action

    def _scorecard_data(self, year):
        """Figures of the department scorecard for `year`, in a few grouped
        queries: coverage by reader category, projects, deliverables, contacts."""
        self.ensure_one()
        start = fields.Datetime.to_datetime(date(year, 1, 1))
        end = fields.Datetime.to_datetime(date(year + 1, 1, 1))
        readers_domain = [
            ("is_reader", "=", True),
            ("library_department_id", "child_of", self.id),
        ]
        readers = dict(
            self.env["res.partner"]._read_group(readers_domain, ["reader_category"], ["__count"])
        )
        contacted = dict(
            self.env["library.contact.timeline"]._read_group(
                [
                    ("date", ">=", start),
                    ("date", "<", end),
                    ("partner_id", "any", readers_domain),
                ],
                ["partner_id.reader_category"],
                ["partner_id:count_distinct"],
            )
        )
        categories = (
            self.env["res.partner"]._fields["reader_category"]._description_selection(self.env)
        )
        coverage = [
            {
                "label": label,
                "readers": readers.get(code, 0),
                "contacted": contacted.get(code, 0),
                "share": 100 * contacted.get(code, 0) // readers[code],
            }
            for code, label in categories
            if readers.get(code)
        ]
        total_readers = sum(readers.values())
        total_contacted = sum(contacted.values())

        def labelled(model, field, domain, aggregate="__count"):
            labels = dict(self.env[model]._fields[field]._description_selection(self.env))
            return [
                (labels[value], count)
                for value, count in self.env[model]._read_group(
                    [("department_id", "=", self.id), *domain], [field], [aggregate]
                )
            ]

        deliverable_domain = [("date", ">=", start.date()), ("date", "<", end.date())]
        ratings = [
            int(rating) * count
            for rating, count in self.env["library.liaison.deliverable"]._read_group(
                [
                    ("department_id", "=", self.id),
                    ("feedback_rating", "!=", False),
                    *deliverable_domain,
                ],
                ["feedback_rating"],
                ["__count"],
            )
        ]
        rated = self.env["library.liaison.deliverable"].search_count(
            [
                ("department_id", "=", self.id),
                ("feedback_rating", "!=", False),
                *deliverable_domain,
            ]
        )
        return {
            "coverage": coverage,
            "readers": total_readers,
            "contacted": total_contacted,
            "share": 100 * total_contacted // total_readers if total_readers else 0,
            "projects": labelled("library.research.project", "stage", []),
            "deliverables": labelled("library.liaison.deliverable", "kind", deliverable_domain),
            "interactions": labelled(
                "library.interaction", "kind", [("date", ">=", start), ("date", "<", end)]
            ),
            "feedback": sum(ratings) / rated if rated else 0.0,
        }

    def _action_for(self, xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("department_id", "=", self.id)]
        action["context"] = {"default_department_id": self.id}
        return action

    def action_view_projects(self):
        return self._action_for("library_crm.action_library_research_project")

    def action_view_deliverables(self):
        return self._action_for("library_crm.action_library_liaison_deliverable")

    def action_view_interactions(self):
        return self._action_for("library_crm.action_library_interaction")

    def action_view_suggestions(self):
        action = self._action_for("library_crm.action_library_suggestion")
        action["context"] = {"search_default_filter_open": 1}
        return action

    def action_view_timeline(self):
        return self._action_for("library_crm.action_library_contact_timeline")

    def action_log_interaction(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Contact"),
            "res_model": "library.interaction",
            "view_mode": "form",
            "target": "new",
            "context": {"default_department_id": self.id, "default_channel": "department_visit"},
        }

    def action_view_faculty(self):
        action = self.action_view_readers()
        action["domain"] += [("reader_category", "=", "faculty")]
        action["context"]["default_reader_category"] = "faculty"
        return action

    def action_view_majors(self):
        return self._action_for("library_crm.action_library_major")
