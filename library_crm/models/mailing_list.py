# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

from .library_segment_history import READER_SEGMENTS


class MailingList(models.Model):
    """Mailing lists that follow a reader segment: after every recompute
    they hold exactly the segment's readers who have an e-mail address."""

    _inherit = "mailing.list"

    library_segment = fields.Selection(
        READER_SEGMENTS,
        string="Follows Segment",
        copy=False,
        help="Kept in sync with the readers of this segment after every recompute.",
    )

    @api.model
    def _library_sync_segment_lists(self):
        """Add the segment's new readers to each list and remove those who
        left; set-based diff, ORM only for the records that change."""
        lists = self.sudo().search([("library_segment", "!=", False)])
        if not lists:
            return
        Contact = self.env["mailing.contact"].sudo()
        Subscription = self.env["mailing.subscription"].sudo()
        self.env.flush_all()
        cr = self.env.cr
        # Contacts follow their reader's address, also when it was changed
        # outside the ORM.
        cr.execute(
            SQL(
                """
                SELECT c.library_partner_id FROM mailing_contact c
                  JOIN res_partner p ON p.id = c.library_partner_id
                 WHERE p.email IS NOT NULL AND c.email IS DISTINCT FROM p.email
                """
            )
        )
        self.env["res.partner"].browse(
            row[0] for row in cr.fetchall()
        )._library_sync_mailing_contacts()
        # One contact per reader with an e-mail address.
        cr.execute(
            SQL(
                """
                SELECT p.id, p.name, p.email FROM res_partner p
                  JOIN library_reader_metrics m ON m.partner_id = p.id
                 WHERE p.is_reader AND p.active AND p.email IS NOT NULL
                   AND m.reader_segment IN %s
                   AND NOT EXISTS (SELECT 1 FROM mailing_contact c
                                    WHERE c.library_partner_id = p.id)
                """,
                tuple(lists.mapped("library_segment")),
            )
        )
        Contact.create(
            [
                {"library_partner_id": pid, "name": name, "email": email}
                for pid, name, email in cr.fetchall()
            ]
        )
        for mailing_list in lists:
            cr.execute(
                SQL(
                    """
                    SELECT c.id FROM mailing_contact c
                      JOIN res_partner p ON p.id = c.library_partner_id
                      JOIN library_reader_metrics m ON m.partner_id = p.id
                     WHERE p.is_reader AND p.active AND p.email IS NOT NULL
                       AND m.reader_segment = %(segment)s
                       AND NOT EXISTS (SELECT 1 FROM mailing_subscription s
                                        WHERE s.contact_id = c.id AND s.list_id = %(list)s)
                    """,
                    segment=mailing_list.library_segment,
                    list=mailing_list.id,
                )
            )
            Subscription.create(
                [{"contact_id": cid, "list_id": mailing_list.id} for (cid,) in cr.fetchall()]
            )
            cr.execute(
                SQL(
                    """
                    SELECT s.id FROM mailing_subscription s
                      JOIN mailing_contact c ON c.id = s.contact_id
                      JOIN res_partner p ON p.id = c.library_partner_id
                      LEFT JOIN library_reader_metrics m ON m.partner_id = p.id
                     WHERE s.list_id = %(list)s
                       AND (m.reader_segment IS DISTINCT FROM %(segment)s
                            OR NOT p.is_reader OR NOT p.active OR p.email IS NULL)
                    """,
                    segment=mailing_list.library_segment,
                    list=mailing_list.id,
                )
            )
            Subscription.browse(row[0] for row in cr.fetchall()).unlink()
