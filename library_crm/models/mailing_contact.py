# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MailingContact(models.Model):
    _inherit = "mailing.contact"

    library_partner_id = fields.Many2one(
        "res.partner",
        string="Reader",
        index="btree_not_null",
        ondelete="cascade",
        help="The reader this contact stands for in the segment mailing lists.",
    )
