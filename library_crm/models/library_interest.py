# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LibraryInterest(models.Model):
    _name = "library.interest"
    _description = "Reader Interest"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="Leave empty to share it with every library of the database.",
    )

    _name_unique = models.UniqueIndex(
        "(name, COALESCE(company_id, 0))", "This interest already exists."
    )
