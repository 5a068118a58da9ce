# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

USAGE_KINDS = [
    ("loan", "Loan"),
    ("renewal", "Renewal"),
    ("visit", "Visit / Gate Entry"),
    ("eresource", "E-resource Session"),
    ("workstation", "Research Workstation Session"),
    ("consultation", "Reference Consultation"),
    ("training", "Training Attended"),
    ("event", "Event Attended"),
    ("ill", "Interlibrary Loan"),
    ("alert_click", "New-Title Alert Click"),
]


class LibraryUsage(models.Model):
    """One use of the library by a reader, as exported by the library system
    (ILS), the gates or the e-resource platforms.

    Millions of rows arrive by import: each carries its source and when it
    was recorded, not a creator and a writer, whose foreign-key checks on
    every row would cost the import more than all its own checks (who ran an
    import is on the import)."""

    _name = "library.usage"
    _description = "Reader Usage"
    _order = "occurred_at desc, id desc"
    _rec_name = "kind"
    _log_access = False
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Reader",
        ondelete="set null",
        index=False,  # covered by the (partner_id, occurred_at) index
        check_company=True,
        help="Empty once the usage is older than the retention period.",
    )
    kind = fields.Selection(USAGE_KINDS, required=True)
    occurred_at = fields.Datetime(required=True)
    quantity = fields.Integer(default=1, required=True)
    duration = fields.Float(string="Duration (minutes)")
    resource_ref = fields.Char(string="Resource")
    source = fields.Char(required=True, default="manual", help="e.g. ils, gate, eresources")
    external_ref = fields.Char(
        string="External Reference",
        help="The record's identifier in its source system; unique per source and library.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    recorded_at = fields.Datetime(
        readonly=True,
        help="When the row was recorded or last changed; the incremental recompute starts there.",
    )

    _partner_occurred_idx = models.Index("(partner_id, occurred_at) WHERE partner_id IS NOT NULL")
    _occurred_idx = models.Index("(occurred_at)")
    _recorded_at_idx = models.Index("(recorded_at)")
    # Two libraries (companies) may import the same export: the key is per company.
    _source_external_ref_unique = models.UniqueIndex(
        "(company_id, source, external_ref)", "This usage was already imported from this source."
    )

    @api.constrains("quantity", "duration")
    def _check_quantity(self):
        for usage in self:
            if usage.quantity < 0 or usage.duration < 0:
                raise ValidationError(self.env._("Quantities and durations cannot be negative."))

    @api.model_create_multi
    def create(self, vals_list):
        # Generic imports and manual entries get a reference too, so that a
        # second import of the same rows is refused instead of duplicated.
        # The start of this transaction, on the database's clock, as the
        # imports write it in SQL: the engine's watermark relies on it.
        recorded_at = self.env.cr.now()
        for vals in vals_list:
            vals["recorded_at"] = recorded_at
            if not vals.get("external_ref"):
                vals["external_ref"] = self._default_external_ref(vals)
        return super().create(vals_list)

    def write(self, vals):
        if "partner_id" in vals:
            self.env["library.reader.metrics"]._mark_for_recompute(self.partner_id.ids)
        return super().write({**vals, "recorded_at": self.env.cr.now()})

    def unlink(self):
        self.env["library.reader.metrics"]._mark_for_recompute(self.partner_id.ids)
        return super().unlink()

    @api.model
    def _default_external_ref(self, vals):
        partner = self.env["res.partner"].browse(vals.get("partner_id"))
        return "|".join(
            str(part or "")
            for part in (
                partner.reader_card_number or partner.id,
                vals.get("kind"),
                vals.get("occurred_at"),
                vals.get("resource_ref"),
            )
        )
