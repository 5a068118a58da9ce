# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .library_rights import LEADER_GROUP, check_manager


class LibraryUnit(models.Model):
    """A unit of the library itself (采编部, 流通部...): it handles the
    suggestions given to it."""

    _name = "library.unit"
    _description = "Library Unit"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    manager_id = fields.Many2one(
        "res.users",
        string="Unit Manager",
        index="btree_not_null",
        domain=lambda self: [
            ("all_group_ids", "in", self.env.ref("library_crm.group_library_librarian").id)
        ],
    )
    leader_id = fields.Many2one(
        "res.users",
        string="Leader in Charge",
        index="btree_not_null",
        help="The library leader in charge of the unit (分管馆领导): the unit's solutions go "
        "to them for approval, and only they approve, return or reject them. A unit without "
        "a leader in charge is approved by any member of the library leadership.",
        domain=lambda self: [
            ("all_group_ids", "in", self.env.ref("library_crm.group_library_leadership").id)
        ],
    )
    member_ids = fields.Many2many(
        "res.users",
        "library_unit_res_users_rel",
        "unit_id",
        "user_id",
        string="Members",
        domain=lambda self: [
            ("all_group_ids", "in", self.env.ref("library_crm.group_library_librarian").id)
        ],
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    suggestion_ids = fields.One2many("library.suggestion", "unit_id", string="Suggestions")
    open_suggestion_count = fields.Integer(compute="_compute_open_suggestion_count")

    _unique_name = models.UniqueIndex(
        "(company_id, name)", "A library unit with this name already exists."
    )

    def _compute_open_suggestion_count(self):
        counts = dict(
            self.env["library.suggestion"]._read_group(
                [("unit_id", "in", self.ids), ("is_open", "=", True)], ["unit_id"], ["__count"]
            )
        )
        for unit in self:
            unit.open_suggestion_count = counts.get(unit, 0)

    def write(self, vals):
        # Who works on a unit's suggestions, and which leader approves
        # them, is the managers' decision, even if write access to units is
        # ever widened.
        if {"member_ids", "manager_id", "leader_id"} & vals.keys():
            check_manager(self.env)
        return super().write(vals)

    def _staff(self):
        """Users who may work on this unit's suggestions."""
        return self.member_ids | self.manager_id

    def _approvers(self, company=None):
        """Who may approve this unit's solutions: its leader in charge; a
        unit without one (or no unit): every member of the library
        leadership (the documented fallback). Only active internal leaders
        of the library (`company`, by default the unit's) decide: a leader
        in charge who is not one (the user left the leadership, or the
        manager picked someone else over RPC) falls back too, instead of
        leaving the solution to nobody."""
        company = company or self.company_id
        group = self.env.ref(LEADER_GROUP).sudo()
        leaders = group.all_user_ids

        def may_decide(user):
            return (
                user.active
                and user._is_internal()
                and user in leaders
                and (not company or company in user.company_ids)
            )

        leader = self.leader_id.sudo().filtered(may_decide)
        return leader or leaders.filtered(may_decide)

    def action_open_suggestions(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "library_crm.action_library_suggestion"
        )
        action["domain"] = [("unit_id", "=", self.id)]
        action["context"] = {"default_unit_id": self.id, "search_default_filter_open": 1}
        return action
