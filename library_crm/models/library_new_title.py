# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from collections import Counter

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from ..wizards.import_columns import alias_index

# Columns of a new-title list (acquisitions export), in English or Chinese.
TITLE_COLUMN_ALIASES = {
    "name": ("title", "name", "题名", "书名", "正题名"),
    "isbn": ("isbn", "isbn号", "国际标准书号"),
    "author": ("author", "authors", "责任者", "作者", "著者"),
    "publisher": ("publisher", "出版社", "出版者"),
    "call_number": ("call number", "索书号", "索取号"),
    "clc_code": ("clc", "clc number", "clc code", "中图分类号", "分类号"),
    "subjects": ("subjects", "subject", "主题词", "主题"),
    "arrival_date": ("arrival date", "arrived", "到馆日期", "入藏日期", "验收日期"),
    "catalogue_url": ("catalogue url", "catalog url", "url", "链接", "opac链接"),
}
TITLE_HEADER_TO_COLUMN = alias_index(TITLE_COLUMN_ALIASES)
ISBN_RE = re.compile(r"^(?:[0-9]{9}[0-9X]|[0-9]{13})$")
TITLE_TEXT_FIELDS = ("name", "author", "publisher", "call_number", "clc_code", "subjects")


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

    # ------------------------------------------------------------------
    # Import of a CSV/XLSX title list (import sources)
    # ------------------------------------------------------------------

    @api.model
    def _normalize_isbn(self, value):
        return re.sub(r"[\s-]", "", value or "").upper()

    @api.model
    def _import_table_content(self, content):
        """Upsert titles by ISBN from CSV/XLSX bytes, with the reader import's
        reading of the file. Returns the counts and the rejected rows as the
        reader import does; a second import of the same list changes
        nothing."""
        Reader = self.env["library.reader.import"]
        header, rows = Reader._read_table(
            content,
            TITLE_HEADER_TO_COLUMN,
            ("name", "isbn"),
            self.env._(
                "The first row must name the columns. Title (题名) and ISBN are required; "
                "accepted column names: %(names)s",
                names=", ".join(aliases[0] for aliases in TITLE_COLUMN_ALIASES.values()),
            ),
        )
        messages = {
            "no_title": self.env._("Title is missing."),
            "isbn": self.env._("ISBN is missing or not 10 or 13 digits."),
            "date": self.env._("Arrival date is not a date (use YYYY-MM-DD)."),
            "duplicate": self.env._("The ISBN appears more than once in the file."),
            "nul": self.env._("The row contains a NUL character (binary data)."),
            **{
                key: value for key, value in Reader._messages().items() if key in ("quote", "long")
            },
        }
        checked = []
        result = {
            "header": header,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": [],
            "rejected_raw": [],
        }
        for row_number, row, error, cells in rows:
            values, reason = None, messages.get(error) if error else None
            if not reason:
                values, reason = self._check_title_row(cells, row, messages)
            checked.append((row_number, row, values, reason))
        isbn_counts = Counter(values["isbn"] for _n, _r, values, reason in checked if not reason)
        good = []
        for row_number, row, values, reason in checked:
            if not reason and isbn_counts[values["isbn"]] > 1:
                reason = messages["duplicate"]
            if reason:
                result["rejected"].append((row_number, {}, reason))
                result["rejected_raw"].append((row_number, row, reason))
            else:
                good.append(values)
        self._upsert_titles(good, result)
        return result

    @api.model
    def _check_title_row(self, cells, row, messages):
        if any("\x00" in str(value or "") for value in row):
            return None, messages["nul"]
        if not cells.get("name"):
            return None, messages["no_title"]
        isbn = self._normalize_isbn(cells.get("isbn"))
        if not ISBN_RE.match(isbn):
            return None, messages["isbn"]
        values = {"isbn": isbn}
        for column in (*TITLE_TEXT_FIELDS, "catalogue_url"):
            if cells.get(column):
                values[column] = cells[column]
        if cells.get("arrival_date"):
            try:
                values["arrival_date"] = self.env["library.reader.import"]._parse_date(
                    cells["arrival_date"]
                )
            except ValueError:
                return None, messages["date"]
        return values, None

    @api.model
    def _upsert_titles(self, vals_list, result):
        company = self.env.company
        for start in range(0, len(vals_list), 1000):
            batch = vals_list[start : start + 1000]
            existing = {
                title.isbn: title
                for title in self.search(
                    [("company_id", "=", company.id), ("isbn", "in", [v["isbn"] for v in batch])]
                )
            }
            to_create = []
            for values in batch:
                title = existing.get(values["isbn"])
                if not title:
                    to_create.append(dict(values, company_id=company.id))
                    continue
                changes = {name: value for name, value in values.items() if title[name] != value}
                if changes:
                    title.write(changes)
                    result["updated"] += 1
                else:
                    result["unchanged"] += 1
            if to_create:
                self.create(to_create)
                result["created"] += len(to_create)

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
