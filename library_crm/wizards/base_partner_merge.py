# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import SQL


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        """Merging readers moves their points lines in SQL: the kept reader's
        stored balance becomes the sum of the lines it now has (the merged
        readers' balance rows would collide with it)."""
        self.env.cr.execute(
            SQL("DELETE FROM library_points_balance WHERE partner_id = ANY(%s)", src_partners.ids)
        )
        result = super()._update_foreign_keys(src_partners, dst_partner)
        self.env["library.points.balance"].sudo()._reset(dst_partner)
        return result
