# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import SQL

from ..models.res_partner import CONSENT_FIELDS


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        """Merging readers moves their points lines in SQL: the kept reader's
        stored balance becomes the sum of the lines it now has (the merged
        readers' balance rows would collide with it). A reader has one row
        of metrics: the merged readers' rows go, the kept reader's is
        recomputed (moved, they collided and no two readers could be merged)."""
        cr = self.env.cr
        cr.execute(
            SQL("DELETE FROM library_points_balance WHERE partner_id = ANY(%s)", src_partners.ids)
        )
        cr.execute(
            SQL(
                "UPDATE res_partner SET library_metrics_id = NULL WHERE id = ANY(%s)",
                src_partners.ids,
            )
        )
        cr.execute(
            SQL("DELETE FROM library_reader_metrics WHERE partner_id = ANY(%s)", src_partners.ids)
        )
        self.env["res.partner"].invalidate_model(["library_metrics_id"])
        self.env["library.reader.metrics"].invalidate_model()
        result = super()._update_foreign_keys(src_partners, dst_partner)
        self.env["library.points.balance"].sudo()._reset(dst_partner)
        return result

    def _update_values(self, src_partners, dst_partner):
        """Odoo keeps any value set on one of the merged contacts: a "yes"
        would override the kept reader's "no". The kept reader says no to a
        purpose if any of the merged contacts did, has chosen if any had, and
        its satisfaction is recomputed from the answers it now has instead of
        copied (the engines' fields are not written by users)."""
        partners = src_partners | dst_partner
        consent = {field: all(partners.mapped(field)) for field in CONSENT_FIELDS.values()}
        chosen = any(partners.mapped("consent_chosen"))
        neutral = ["satisfaction_score", "consent_chosen", *consent]
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET %s WHERE id = ANY(%s)",
                SQL(", ").join(
                    SQL(
                        "%s = %s",
                        SQL.identifier(name),
                        0 if name == "satisfaction_score" else False,
                    )
                    for name in neutral
                ),
                src_partners.ids,
            )
        )
        src_partners.invalidate_recordset(neutral)
        result = super()._update_values(src_partners, dst_partner)
        dst = dst_partner.sudo()
        changed = {field: value for field, value in consent.items() if dst[field] != value}
        if changed:
            dst._library_write(changed, "staff")
        if chosen and not dst.consent_chosen:
            dst.write({"consent_chosen": True})
        if dst.is_reader:
            self.env["library.reader.metrics"].sudo()._ensure_rows(dst.ids)
            self.env["library.reader.metrics"].sudo()._mark_for_recompute(dst.ids)
            self.env["library.satisfaction"].sudo()._update_readers(dst)
        return result
