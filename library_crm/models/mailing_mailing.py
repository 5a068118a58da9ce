# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from .library_consent_log import CONSENT_PURPOSES
from .res_partner import CONSENT_FIELDS


class MailingMailing(models.Model):
    """Every mailing declares its purpose; readers who said no to that
    purpose are never among its recipients."""

    _inherit = "mailing.mailing"

    library_purpose = fields.Selection(
        CONSENT_PURPOSES,
        string="Purpose",
        required=True,
        default="news",
        help="Readers who opted out of this purpose do not receive the mailing; the "
        "unsubscribe link in the message opts them out of this purpose only.",
    )

    def _get_recipients_domain(self):
        domain = super()._get_recipients_domain()
        field = CONSENT_FIELDS[self.library_purpose or "news"]
        if self.mailing_model_real == "res.partner":
            # Non-readers (other contacts) are not concerned by library consent.
            return domain & (Domain("is_reader", "=", False) | Domain(field, "=", True))
        if self.mailing_model_real == "mailing.contact":
            self.env["res.partner"].flush_model([field, "is_reader", "email_normalized"])
            self.env.cr.execute(
                SQL(
                    "SELECT email_normalized FROM res_partner "
                    "WHERE is_reader AND NOT %s AND email_normalized IS NOT NULL",
                    SQL.identifier(field),
                )
            )
            refused = [row[0] for row in self.env.cr.fetchall()]
            if refused:
                return domain & Domain("email_normalized", "not in", refused)
        return domain
