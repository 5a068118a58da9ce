# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.library_interaction import INTERACTION_CHANNELS, INTERACTION_KINDS


class LibraryContactTimeline(models.Model):
    """Every contact with a reader or a department in one list: logged
    interactions and the e-mails exchanged in the reader's chatter. The
    e-mails are read from mail.message, not copied."""

    _name = "library.contact.timeline"
    _description = "Reader Contact Timeline"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "summary"

    date = fields.Datetime(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Reader", readonly=True)
    department_id = fields.Many2one("library.department", readonly=True)
    user_id = fields.Many2one("res.users", string="Librarian", readonly=True)
    author_id = fields.Many2one("res.partner", readonly=True)
    source = fields.Selection([("interaction", "Interaction"), ("email", "E-mail")], readonly=True)
    channel = fields.Selection([*INTERACTION_CHANNELS], readonly=True)
    kind = fields.Selection([*INTERACTION_KINDS], readonly=True)
    summary = fields.Char(readonly=True)
    interaction_id = fields.Many2one("library.interaction", readonly=True)
    message_id = fields.Many2one("mail.message", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT i.id * 2 AS id,
                           i.date,
                           i.partner_id,
                           i.department_id,
                           i.user_id,
                           u.partner_id AS author_id,
                           'interaction' AS source,
                           i.channel,
                           i.kind,
                           i.summary,
                           i.id AS interaction_id,
                           NULL::integer AS message_id,
                           i.company_id
                      FROM library_interaction i
                      JOIN res_users u ON u.id = i.user_id
                    UNION ALL
                    SELECT m.id * 2 + 1,
                           m.date,
                           p.id,
                           p.library_department_id,
                           author_user.id,
                           m.author_id,
                           'email',
                           'email',
                           NULL,
                           COALESCE(NULLIF(m.subject, ''), left(regexp_replace(
                               COALESCE(m.body, ''), '<[^>]*>', '', 'g'), 120)),
                           NULL,
                           m.id,
                           p.company_id
                      FROM mail_message m
                      JOIN res_partner p ON p.id = m.res_id AND p.is_reader
                      LEFT JOIN LATERAL (
                          SELECT id FROM res_users WHERE partner_id = m.author_id
                           ORDER BY id LIMIT 1
                      ) author_user ON TRUE
                     WHERE m.model = 'res.partner'
                       AND m.message_type IN ('email', 'email_outgoing', 'comment')
                       AND m.subtype_id = %(comment_subtype)s
                )
                """,
                table=SQL.identifier(self._table),
                comment_subtype=self.env.ref("mail.mt_comment").id,
            )
        )
