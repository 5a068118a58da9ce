# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LibrarySatisfactionDimension(models.Model):
    """A dimension of service (services and staff, collections...) that
    scored questions of any survey can measure."""

    _name = "library.satisfaction.dimension"
    _description = "Satisfaction Dimension"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty to share it with every library of the database.",
    )
    question_ids = fields.One2many("survey.question", "library_dimension_id", string="Questions")
