# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

DEFAULT_MAX_DEPARTMENTS_PER_LIAISON = 2


class LibraryDepartment(models.Model):
    _name = "library.department"
    _description = "Department"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, code, name"
    _rec_names_search = ["name", "code"]
    _parent_store = True

    name = fields.Char(required=True, translate=True, tracking=True)
    code = fields.Char(required=True, index=True, tracking=True)
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
    reader_count = fields.Integer(compute="_compute_reader_count")
    major_count = fields.Integer(compute="_compute_major_count")

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
        counts = dict(
            self.env["res.partner"]._read_group(
                [("library_department_id", "child_of", self.ids)],
                ["library_department_id"],
                ["__count"],
            )
        )
        for department in self:
            department.reader_count = sum(
                count
                for dept, count in counts.items()
                if str(department.id) in dept.parent_path.split("/")
            )

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
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("library_crm.max_departments_per_liaison")
        )
        return int(value) if value else DEFAULT_MAX_DEPARTMENTS_PER_LIAISON

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code"):
                vals["code"] = vals["code"].strip().upper()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("code"):
            vals["code"] = vals["code"].strip().upper()
        return super().write(vals)

    def action_view_readers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_reader")
        action["domain"] = [("library_department_id", "child_of", self.id)]
        action["context"] = {
            "default_is_reader": True,
            "default_library_department_id": self.id,
        }
        return action

    def action_view_majors(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("library_crm.action_library_major")
        action["domain"] = [("department_id", "=", self.id)]
        action["context"] = {"default_department_id": self.id}
        return action
