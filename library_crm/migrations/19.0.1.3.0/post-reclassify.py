# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""New rules for lifecycle stages and the value tier: every reader is
classified again, as a new baseline. The rules changed, the readers did not:
no history row and no follow-up is written for the difference, and the value
tier and its cutoffs exist from here on. A database never recomputed stays
so (its first run is the baseline anyway)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    if env["ir.config_parameter"].get_param("library_crm.segmentation_last_run"):
        env["library.segmentation"]._recompute(full=True, baseline=True)
