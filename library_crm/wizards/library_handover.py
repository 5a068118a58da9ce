# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..models.library_rights import LIBRARIAN_GROUP, check_librarian, is_manager
from .import_columns import reopen_action


class LibraryHandover(models.TransientModel):
    """Hand a librarian's readers and/or department liaison roles over to a
    colleague: responsible librarian, open activities, liaison role."""

    _name = "library.handover"
    _description = "Reader Hand-over"

    from_user_id = fields.Many2one(
        "res.users", string="From Librarian", required=True, default=lambda self: self.env.user
    )
    to_user_id = fields.Many2one(
        "res.users",
        string="To Librarian",
        required=True,
        domain=lambda self: [
            ("all_group_ids", "in", self.env.ref("library_crm.group_library_librarian").id)
        ],
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Readers",
        domain="[('is_reader', '=', True), ('responsible_librarian_id', '=', from_user_id)]",
        help="Leave empty and tick 'All their readers' to move every reader of the librarian.",
    )
    all_readers = fields.Boolean(string="All their readers")
    department_ids = fields.Many2many(
        "library.department",
        string="Liaison Roles",
        domain="[('liaison_user_ids', 'in', from_user_id)]",
    )
    move_suggestions = fields.Boolean(
        string="Their Open Suggestions",
        help="Also hand over the open reader suggestions the librarian handles.",
    )
    note = fields.Text(string="Reason")
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    moved_partner_ids = fields.Many2many(
        "res.partner", "library_handover_moved_partner_rel", string="Readers Moved"
    )
    moved_department_ids = fields.Many2many(
        "library.department", "library_handover_moved_department_rel", string="Roles Moved"
    )
    moved_activity_count = fields.Integer(string="Activities Moved")
    moved_suggestion_count = fields.Integer(string="Suggestions Moved")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner":
            readers = self.env["res.partner"].browse(self.env.context.get("active_ids", []))
            values["partner_ids"] = [(6, 0, readers.filtered("is_reader").ids)]
            librarians = readers.responsible_librarian_id
            if len(librarians) == 1:
                values["from_user_id"] = librarians.id
        elif self.env.context.get("active_model") == "library.department":
            values["department_ids"] = [(6, 0, self.env.context.get("active_ids", []))]
        return values

    def action_handover(self):
        self.ensure_one()
        self._check_handover_rights()
        if self.from_user_id == self.to_user_id:
            raise UserError(self.env._("Choose another librarian to hand over to."))
        if not self.to_user_id.has_group(LIBRARIAN_GROUP):
            raise UserError(
                self.env._(
                    "%(user)s is not library staff: hand over to a librarian.",
                    user=self.to_user_id.name,
                )
            )
        readers = self.partner_ids
        if self.all_readers:
            readers |= (
                self.env["res.partner"]
                .sudo()
                .search(
                    [
                        ("is_reader", "=", True),
                        ("responsible_librarian_id", "=", self.from_user_id.id),
                    ]
                )
            )
        departments = self.department_ids
        if not readers and not departments and not self.move_suggestions:
            raise UserError(self.env._("Choose readers or liaison roles to hand over."))
        self.partner_ids.check_access("write")
        if departments:
            departments.check_access("write")
        if not is_manager(self.env):
            others = readers.filtered(lambda p: p.responsible_librarian_id != self.env.user)
            if others:
                raise AccessError(
                    self.env._(
                        "%(readers)s are not your readers: only a library manager can "
                        "hand them over.",
                        readers=", ".join(others.mapped("display_name")),
                    )
                )
        suggestions = self._suggestions_to_move()
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                Domain("user_id", "=", self.from_user_id.id)
                & (
                    (Domain("res_model", "=", "res.partner") & Domain("res_id", "in", readers.ids))
                    | (
                        Domain("res_model", "=", "library.department")
                        & Domain("res_id", "in", departments.ids)
                    )
                )
            )
        )
        # Checked above: the caller is a manager or hands over their own work.
        readers.sudo().write({"responsible_librarian_id": self.to_user_id.id})
        departments.write(
            {
                "liaison_user_ids": [
                    (3, self.from_user_id.id),
                    (4, self.to_user_id.id),
                ]
            }
        )
        activities.sudo().write({"user_id": self.to_user_id.id})
        self._handover_suggestions(suggestions)
        message = self._handover_message()
        for record in [*readers, *departments, *suggestions]:
            record.message_post(body=message, subtype_xmlid="mail.mt_note")
        self.write(
            {
                "state": "done",
                "moved_partner_ids": [(6, 0, readers.ids)],
                "moved_department_ids": [(6, 0, departments.ids)],
                "moved_activity_count": len(activities),
                "moved_suggestion_count": len(suggestions),
            }
        )
        return reopen_action(self, self.env._("Hand-over"))

    def _check_handover_rights(self):
        """Library staff hand over their own work; moving another
        librarian's readers, roles or suggestions is a manager's action."""
        check_librarian(self.env)
        self.check_access("write")  # the caller's own wizard
        if self.from_user_id != self.env.user and not is_manager(self.env):
            raise AccessError(
                self.env._(
                    "Only a library manager can hand over the work of %(librarian)s.",
                    librarian=self.from_user_id.name,
                )
            )

    def _suggestions_to_move(self):
        """The open suggestions the outgoing librarian handles, if asked.
        The colleague must be able to work on them: joining a unit is the
        managers' decision (library.unit.write), checked before anything moves."""
        suggestions = self.env["library.suggestion"]
        if not self.move_suggestions:
            return suggestions
        suggestions = suggestions.search(
            [("user_id", "=", self.from_user_id.id), ("is_open", "=", True)]
        )
        if not is_manager(self.env):
            for unit in suggestions.unit_id:
                if self.to_user_id not in unit._staff():
                    raise AccessError(
                        self.env._(
                            "Only a library manager can add %(user)s to the unit "
                            "%(unit)s: ask a manager to do this hand-over.",
                            user=self.to_user_id.name,
                            unit=unit.display_name,
                        )
                    )
        return suggestions

    def _handover_suggestions(self, suggestions):
        """The open suggestions follow the readers: the colleague joins their
        units to work on them."""
        if not suggestions:
            return suggestions
        for unit in suggestions.unit_id:
            if self.to_user_id not in unit._staff():
                unit.member_ids = [(4, self.to_user_id.id)]
        suggestions.write({"user_id": self.to_user_id.id})
        suggestions.activity_ids.filtered(lambda a: a.user_id == self.from_user_id).write(
            {"user_id": self.to_user_id.id}
        )
        return suggestions

    def _handover_message(self):
        body = self.env._(
            "Handed over from %(from)s to %(to)s.",
            **{"from": self.from_user_id.name, "to": self.to_user_id.name},
        )
        if self.note:
            return Markup("%s<br/>%s") % (body, self.note)
        return body
