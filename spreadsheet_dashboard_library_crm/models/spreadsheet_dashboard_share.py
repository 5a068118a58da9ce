# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import AccessError

from odoo.addons.library_crm.models.library_rights import MANAGER_GROUP

READER_RELATIONS = "spreadsheet_dashboard_library_crm.spreadsheet_dashboard_reader_relations"


class SpreadsheetDashboardShare(models.Model):
    """A share is a frozen copy of a dashboard that anyone holding the link
    reads without logging in. The Reader Relations dashboard is the
    library's internal figures: only a library manager publishes it; a
    librarian reads it but cannot hand it outside."""

    _inherit = "spreadsheet.dashboard.share"

    @api.model_create_multi
    def create(self, vals_list):
        shares = super().create(vals_list)
        shares._check_library_share()
        return shares

    def write(self, vals):
        result = super().write(vals)
        if "dashboard_id" in vals:
            self._check_library_share()
        return result

    def _check_library_share(self):
        if self.env.su:
            return
        dashboard = self.env.ref(READER_RELATIONS, raise_if_not_found=False)
        if not dashboard or dashboard not in self.sudo().dashboard_id:
            return
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only a library manager shares the Reader Relations dashboard.")
            )
