# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LibraryTitleMapping(models.Model):
    """Which readers a new title concerns: a Chinese Library Classification
    (中图分类号) prefix and/or a subject keyword, mapped to majors and
    interests."""

    _name = "library.title.mapping"
    _description = "New-Title Mapping"
    _order = "clc_prefix, subject_keyword"

    clc_prefix = fields.Char(
        string="CLC Prefix", help="Titles whose classification starts with this, e.g. TP3."
    )
    subject_keyword = fields.Char(help="Titles whose subjects contain this, e.g. 人工智能.")
    major_ids = fields.Many2many("library.major", string="Majors")
    interest_ids = fields.Many2many("library.interest", string="Interests")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty to share it with every library of the database.",
    )

    @api.constrains("clc_prefix", "subject_keyword", "major_ids", "interest_ids")
    def _check_mapping(self):
        for mapping in self:
            if not (mapping.clc_prefix or mapping.subject_keyword):
                raise ValidationError(self.env._("Give a classification prefix or a keyword."))
            if not (mapping.major_ids or mapping.interest_ids):
                raise ValidationError(self.env._("Map it to at least one major or interest."))

    def _matches(self, title):
        self.ensure_one()
        if self.company_id and self.company_id != title.company_id:
            return False
        clc = (title.clc_code or "").upper()
        subjects = (title.subjects or "").lower()
        if self.clc_prefix and not clc.startswith(self.clc_prefix.strip().upper()):
            return False
        return not (self.subject_keyword and self.subject_keyword.strip().lower() not in subjects)

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        self._recompute_pending_titles()
        return mappings

    def write(self, vals):
        result = super().write(vals)
        self._recompute_pending_titles()
        return result

    def _recompute_pending_titles(self):
        """Mappings decide the audience of the titles not sent yet."""
        self.env["library.new.title"].search(
            [("digest_mailing_id", "=", False)]
        )._compute_audience()
