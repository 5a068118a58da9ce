# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LibraryInterest(models.Model):
    _name = "library.interest"
    _description = "Reader Interest"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)

    _name_unique = models.UniqueIndex("(name)", "This interest already exists.")
