# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RatingRating(models.Model):
    _inherit = "rating.rating"

    # The token is the rater's key: whoever holds it rates in the reader's
    # name through Odoo's public rating route. Only superuser code reads it:
    # the mail that carries it and the route that checks it.
    access_token = fields.Char(groups="base.group_system")
