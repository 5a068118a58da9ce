# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL


class LibraryNewTitle(models.Model):
    """A newly acquired title (新书), imported from the acquisition system's
    export with Odoo's import; readers of the matching majors and interests
    get it in their new-title digest."""

    _name = "library.new.title"
    _description = "New Title"
    _order = "arrival_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Title", required=True)
    isbn = fields.Char(string="ISBN", index="btree_not_null")
    author = fields.Char()
    publisher = fields.Char()
    call_number = fields.Char()
    clc_code = fields.Char(
        string="CLC Number", help="Chinese Library Classification (中图分类号), e.g. TP391.4."
    )
    subjects = fields.Char(help="Subject headings, separated by semicolons.")
    arrival_date = fields.Date(default=fields.Date.context_today, required=True)
    catalogue_url = fields.Char(string="Catalogue Link")
    major_ids = fields.Many2many(
        "library.major",
        string="Majors",
        compute="_compute_audience",
        store=True,
        readonly=False,
        check_company=True,
    )
    interest_ids = fields.Many2many(
        "library.interest",
        string="Interests",
        compute="_compute_audience",
        store=True,
        readonly=False,
    )
    digest_mailing_id = fields.Many2one(
        "mailing.mailing", string="Sent in Digest", readonly=True, copy=False
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _unique_isbn = models.UniqueIndex(
        "(company_id, isbn) WHERE isbn IS NOT NULL", "A title with this ISBN already exists."
    )

    @api.depends("clc_code", "subjects")
    def _compute_audience(self):
        mappings = self.env["library.title.mapping"].search([("active", "=", True)])
        for title in self:
            matching = mappings.filtered(lambda m, t=title: m._matches(t))
            title.major_ids = matching.major_ids
            title.interest_ids = matching.interest_ids

    @api.model
    def _cron_send_digest(self):
        """One mailing per library (company) for its titles not sent yet,
        rendered per reader with the titles of their major and interests
        only; a library's digest goes to its own readers (and to readers
        not bound to a company), never with another library's titles."""
        titles = self.search([("digest_mailing_id", "=", False)])
        titles = titles.filtered(lambda t: t.major_ids or t.interest_ids)
        mailings = self.env["mailing.mailing"]
        for company in titles.company_id:
            mailings |= self.with_company(company)._send_digest(
                titles.filtered(lambda t, c=company: t.company_id == c)
            )
        return mailings

    @api.model
    def _send_digest(self, titles):
        """The digest of these titles, all of the current company."""
        company = self.env.company
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id FROM res_partner p
                 WHERE p.is_reader AND p.active AND p.consent_new_titles
                   AND p.email IS NOT NULL
                   AND (p.company_id = %(company)s OR p.company_id IS NULL)
                   AND (p.library_major_id IN (
                            SELECT library_major_id FROM library_major_library_new_title_rel
                             WHERE library_new_title_id = ANY(%(titles)s))
                        OR EXISTS (
                            SELECT 1 FROM library_interest_res_partner_rel ip
                              JOIN library_interest_library_new_title_rel it
                                ON it.library_interest_id = ip.interest_id
                             WHERE ip.partner_id = p.id
                               AND it.library_new_title_id = ANY(%(titles)s)))
                """,
                titles=titles.ids,
                company=company.id,
            )
        )
        readers = [row[0] for row in self.env.cr.fetchall()]
        if not readers:
            return self.env["mailing.mailing"]
        mailing = (
            self.env["mailing.mailing"]
            .sudo()
            .create(
                {
                    "subject": self.with_context(lang=company.partner_id.lang or "en_US").env._(
                        "New titles for you at the library"
                    ),
                    "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "mailing_domain": repr([("id", "in", readers)]),
                    "library_purpose": "new_titles",
                    "body_html": self._digest_body(titles),
                }
            )
        )
        titles.digest_mailing_id = mailing
        mailing.action_send_mail()
        return mailing

    @api.model
    def _cron_record_clicks(self):
        """Links clicked in new-title alerts count as the reader's usage;
        a rerun adds nothing (one usage row per click)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO library_usage
                       (partner_id, kind, occurred_at, quantity, duration, resource_ref,
                        source, external_ref, company_id, recorded_at)
                SELECT p.id, 'alert_click', c.create_date, 1, 0, left(l.url, 200),
                       'mailing', 'click-' || c.id, COALESCE(p.company_id, %(company)s),
                       now() AT TIME ZONE 'UTC'
                  FROM link_tracker_click c
                  JOIN link_tracker l ON l.id = c.link_id
                  JOIN mailing_trace t ON t.id = c.mailing_trace_id
                  JOIN mailing_mailing m ON m.id = t.mass_mailing_id
                  JOIN res_partner p ON p.id = t.res_id AND p.is_reader
                 WHERE t.model = 'res.partner' AND m.library_purpose = 'new_titles'
                ON CONFLICT (company_id, source, external_ref) DO NOTHING
                """,
                company=self.env.company.id,
            )
        )
        self.env["library.usage"].invalidate_model()
        return self.env.cr.rowcount

    @api.model
    def _digest_body(self, titles):
        """QWeb rendered for each reader by the mailing itself, worded in
        the library's language."""
        env = self.with_context(lang=self.env.company.partner_id.lang or "en_US").env
        return Markup(
            """<div>
<p>%(dear)s</p>
<p>%(intro)s</p>
<ul>
<t t-foreach="object._library_digest_titles(%(ids)s)" t-as="title">
<li><a t-att-href="title.catalogue_url or '#'"><b t-out="title.name"/></a>
<t t-if="title.author"> - <t t-out="title.author"/></t>
<t t-if="title.call_number"> (<t t-out="title.call_number"/>)</t></li>
</t>
</ul>
<p>%(outro)s</p>
<p><small><a href="/unsubscribe_from_list">%(optout)s</a></small></p>
</div>"""
        ) % {
            # The translation places the name, before or after the greeting.
            "dear": Markup(env._("Dear %(reader)s,", reader='<t t-out="object.name"/>')),
            "intro": env._("These new titles arrived for your studies and interests:"),
            "outro": env._(
                "Borrow them at the circulation desk or reserve them in the catalogue."
            ),
            "optout": env._("No more new-title alerts"),
            "ids": Markup(repr(titles.ids)),
        }
