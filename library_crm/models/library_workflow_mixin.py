# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The guards of a workflow step, written once.

A step (an action_* method) is public: any logged-in user can call it over
JSON-RPC with any ids and any context. So it checks, in this order:

- the caller's role with _check_role(): a wrong role raises AccessError;
- the record's state with _check_state(): a wrong state raises UserError;

then writes with _write_step(), as superuser, the caller staying the author.
Tests can so tell a guard (UserError) from a missing right (AccessError).
No context key switches a check off.
"""

from odoo import models
from odoo.exceptions import UserError

from .library_rights import (
    LEADER_GROUP,
    LIBRARIAN_GROUP,
    MANAGER_GROUP,
    check_leader,
    check_librarian,
    check_manager,
)

ROLE_CHECKS = {
    LIBRARIAN_GROUP: check_librarian,
    MANAGER_GROUP: check_manager,
    LEADER_GROUP: check_leader,
}


class LibraryWorkflowMixin(models.AbstractModel):
    _name = "library.workflow.mixin"
    _description = "Library Workflow Step Guards"

    def _check_role(self, group_xmlid):
        """AccessError unless the caller has the library role (librarian,
        manager or leadership). Server code running as superuser passes."""
        ROLE_CHECKS[group_xmlid](self.env)

    def _check_state(self, *states):
        """UserError naming the record and its (translated) state unless
        every record is in one of `states`."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        for record in self:
            if record.state not in states:
                raise UserError(
                    self.env._(
                        "%(ref)s is %(state)s: this step is not possible now.",
                        ref=record.display_name,
                        state=labels[record.state],
                    )
                )

    def _write_step(self, vals):
        """Write the step's fields once the step checked role and state: as
        superuser, so the write rules for users do not apply, with the
        caller kept as the author (sudo() keeps env.uid)."""
        return self.sudo().write(vals)
