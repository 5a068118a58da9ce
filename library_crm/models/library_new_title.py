# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import gc
import logging
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import requests
from lxml import etree
from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..wizards.import_columns import alias_index
from . import marc_records

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

UPSERT_BATCH = 2000
NS_OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_PREFIXES = ("oai_dc", "marc21")
OAI_TIMEOUT = 60
IMPORT_TYPES = {"publication_year": "int4", "oai_datestamp": "timestamp"}
# Columns an import writes; empty values never erase what the title holds.
IMPORT_COLUMNS = (
    "name",
    "isbn",
    "author",
    "publisher",
    "publication_year",
    "clc_code",
    "ddc_code",
    "lcc_code",
    "subjects",
    "catalogue_url",
    "source_record_id",
    "oai_identifier",
    "oai_datestamp",
)

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
    isbn = fields.Char(
        string="ISBN", index="btree_not_null", help="Stored as ISBN-13 without hyphens."
    )
    author = fields.Char(help="Authors, separated by semicolons.")
    publisher = fields.Char()
    publication_year = fields.Integer(aggregator=False)
    call_number = fields.Char()
    clc_code = fields.Char(
        string="CLC Number", help="Chinese Library Classification (中图分类号), e.g. TP391.4."
    )
    ddc_code = fields.Char(string="DDC Number", help="Dewey Decimal Classification.")
    lcc_code = fields.Char(string="LCC Number", help="Library of Congress Classification.")
    source_record_id = fields.Char(
        string="Control Number", readonly=True, copy=False, help="The record's 001 field."
    )
    oai_identifier = fields.Char(string="OAI Identifier", readonly=True, copy=False)
    oai_datestamp = fields.Datetime(string="OAI Datestamp", readonly=True, copy=False)
    source_deleted = fields.Boolean(
        string="Deleted at Source",
        readonly=True,
        copy=False,
        help="The catalogue reported this record deleted; the title is archived.",
    )
    active = fields.Boolean(default=True)
    # ISBN-13, or title and year for a title without ISBN: how the same
    # title arriving from two feeds is recognised.
    match_key = fields.Char(readonly=True, copy=False)
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
    _unique_match_key = models.UniqueIndex(
        "(company_id, match_key) WHERE match_key IS NOT NULL",
        "This title was already imported.",
    )
    _oai_identifier_idx = models.Index(
        "(company_id, oai_identifier) WHERE oai_identifier IS NOT NULL"
    )

    # ------------------------------------------------------------------
    # Import of a CSV/XLSX title list (import sources)
    # ------------------------------------------------------------------

    @api.model
    def _normalize_isbn(self, value):
        """The ISBN-13 a title is stored under (as MARC and OAI imports and
        the ORM store it), or "" when the value is not a valid ISBN."""
        raw = re.sub(r"[\s-]", "", value or "").upper()
        if not ISBN_RE.match(raw):
            return ""
        try:
            return marc_records.normalise_isbn(raw) or ""
        except ValueError:
            return ""

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
            "isbn": self.env._("ISBN is missing or not a valid ISBN-10 or ISBN-13."),
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

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._normalise_isbn_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._normalise_isbn_vals(vals)
        return super().write(vals)

    @api.model
    def _normalise_isbn_vals(self, vals):
        """ISBN-10 and hyphenated ISBNs are stored as ISBN-13, which is the
        title's key for imports; a number that is not an ISBN stays as typed."""
        if "isbn" not in vals:
            return
        try:
            isbn = marc_records.normalise_isbn(vals["isbn"] or "")
        except ValueError:
            isbn = None
        if isbn:
            vals["isbn"] = isbn
        vals["match_key"] = isbn or False

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

    # ------------------------------------------------------------------
    # Catalogue records: MARC files and OAI-PMH harvests
    # ------------------------------------------------------------------

    @api.model
    def _check_import_rights(self):
        """Imports write titles in SQL: only library managers (or the
        scheduler, as superuser) run them."""
        if not self.env.su and not self.env.user.has_group("library_crm.group_library_manager"):
            raise AccessError(self.env._("Only library managers import catalogue records."))

    @api.model
    def _rejection(self, exc):
        """The translated reason of a marc_records.RecordRejected."""
        return self.env._(exc.args[0])

    @api.model
    def _import_marc_records(self, data, fmt="iso2709", encoding=None):
        """Import the titles of a MARC file (ISO 2709 or MARCXML; MARC 21 or
        CNMARC/UNIMARC, UTF-8 or GBK/GB2312). Returns dict(read, created,
        updated, unchanged, rejected=[(record number, reason)]). A record
        that cannot be read is rejected alone; a rerun changes nothing."""
        self._check_import_rights()
        if fmt not in ("iso2709", "marcxml"):
            raise ValueError(fmt)
        if fmt == "marcxml":
            records = marc_records.iter_marcxml(data)
        else:
            records = marc_records.iter_iso2709(data, encoding=encoding)
        writer = TitleUpsert(self)
        rows = {}
        rejected = []
        read = 0
        # Records and rows hold no cycles: the collector would only walk the
        # registry's objects again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for number, record in records:
                if number:
                    read += 1
                if isinstance(record, marc_records.RecordRejected):
                    rejected.append((number, self._rejection(record)))
                    continue
                try:
                    row = marc_records.record_to_row(record)
                except marc_records.RecordRejected as exc:
                    rejected.append((number, self._rejection(exc)))
                    continue
                row["_number"] = number
                self._merge_row(rows, row)
                if len(rows) >= UPSERT_BATCH:
                    writer.submit(list(rows.values()))
                    rows = {}
            if rows:
                writer.submit(list(rows.values()))
        finally:
            result = writer.finish()
            if collecting:
                gc.enable()
        rejected.extend(result.pop("rejected"))
        return dict(result, read=read, rejected=sorted(rejected, key=lambda r: str(r[0])))

    @api.model
    def _merge_row(self, rows, row):
        """Keep one row per title: a later record of the same title wins,
        the earlier one fills what it leaves empty."""
        key = row["isbn"] or (
            "o:" + row["oai_identifier"]
            if row.get("oai_identifier")
            else marc_records.title_key(row["name"], row["publication_year"])
        )
        row["match_key"] = row["isbn"] or marc_records.title_key(
            row["name"], row["publication_year"]
        )
        earlier = rows.get(key)
        if earlier:
            for column, value in earlier.items():
                if row.get(column) in (None, "") and value not in (None, ""):
                    row[column] = value
        rows[key] = row

    @api.model
    def _upsert_title_rows(self, rows):
        """Write title rows (see TitleUpsert); dict(created, updated,
        unchanged, rejected)."""
        writer = TitleUpsert(self)
        try:
            for start in range(0, len(rows), UPSERT_BATCH):
                writer.submit(rows[start : start + UPSERT_BATCH])
        finally:
            result = writer.finish()
        return result

    @api.model
    def _recompute_audience_sql(self, title_ids, updated_ids=None):
        """The title mappings' majors and interests for titles not sent yet,
        in SQL (library.title.mapping._matches, set-based); updated_ids (by
        default all) may have an audience from before."""
        updated_ids = title_ids if updated_ids is None else updated_ids
        mapped = bool(self.env["library.title.mapping"].sudo().search_count([], limit=1))
        for field_name in ("major_ids", "interest_ids"):
            field = self._fields[field_name]
            mapping_field = self.env["library.title.mapping"]._fields[field_name]
            names = {
                "rel": SQL.identifier(field.relation),
                "col1": SQL.identifier(field.column1),
                "col2": SQL.identifier(field.column2),
                "mrel": SQL.identifier(mapping_field.relation),
                "mcol1": SQL.identifier(mapping_field.column1),
                "mcol2": SQL.identifier(mapping_field.column2),
            }
            if updated_ids:
                self.env.cr.execute(
                    SQL(
                        """
                        DELETE FROM %(rel)s r USING library_new_title t
                         WHERE r.%(col1)s = t.id AND t.id = ANY(%(ids)s)
                           AND t.digest_mailing_id IS NULL
                        """,
                        ids=updated_ids,
                        **names,
                    )
                )
            if not mapped:
                continue
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO %(rel)s (%(col1)s, %(col2)s)
                    SELECT DISTINCT t.id, mr.%(mcol2)s
                      FROM library_new_title t
                      JOIN library_title_mapping m
                        ON m.active
                       AND (m.company_id IS NULL OR m.company_id = t.company_id)
                       AND (NULLIF(trim(m.clc_prefix), '') IS NULL
                            OR starts_with(upper(COALESCE(t.clc_code, '')),
                                           upper(trim(m.clc_prefix))))
                       AND (NULLIF(trim(m.subject_keyword), '') IS NULL
                            OR position(lower(trim(m.subject_keyword))
                                        IN lower(COALESCE(t.subjects, ''))) > 0)
                      JOIN %(mrel)s mr ON mr.%(mcol1)s = m.id
                     WHERE t.id = ANY(%(ids)s) AND t.digest_mailing_id IS NULL
                    ON CONFLICT DO NOTHING
                    """,
                    ids=title_ids,
                    **names,
                )
            )

    @api.model
    def _harvest_oai(
        self,
        base_url,
        metadata_prefix="oai_dc",
        from_datestamp=None,
        set_spec=None,
        resumption_token=None,
    ):
        """Harvest new and changed catalogue records with OAI-PMH ListRecords
        (oai_dc or marc21), following resumption tokens; deleted records
        archive their title. Returns dict(read, created, updated, unchanged,
        archived, rejected=[(OAI identifier or page, reason)], last_datestamp,
        resumption_token, complete). Each page is written when it is read:
        when the server fails mid-list, the pages read are kept, complete is
        False, last_datestamp stays the one given (rerun from it: nothing is
        duplicated) and resumption_token is where to resume."""
        self._check_import_rights()
        if metadata_prefix not in OAI_PREFIXES:
            raise ValueError(metadata_prefix)
        rejected = []
        state = {"read": 0, "newest": None, "failed": None}
        if resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
            if from_datestamp:
                params["from"] = from_datestamp
            if set_spec:
                params["set"] = set_spec
        # The next page is fetched, and the previous one written, while
        # this one is read: a harvest takes as long as the server needs.
        writer = TitleUpsert(self)
        fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oai-harvest")
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._oai_pages(base_url, params, metadata_prefix, fetcher, writer, rejected, state)
        finally:
            fetcher.shutdown(wait=True, cancel_futures=True)
            result = writer.finish()
            if collecting:
                gc.enable()
        rejected.extend(result.pop("rejected"))
        complete = not state["failed"]
        return dict(
            result,
            read=state["read"],
            rejected=rejected,
            last_datestamp=(state["newest"] or from_datestamp) if complete else from_datestamp,
            resumption_token=None if complete else state["failed"].get("resumptionToken"),
            complete=complete,
        )

    @api.model
    def _oai_pages(self, base_url, params, metadata_prefix, fetcher, writer, rejected, state):
        page = 0
        future = fetcher.submit(_oai_fetch, base_url, params)
        while future:
            page += 1
            try:
                root = self._oai_parse(future.result())
            except (requests.RequestException, OaiHarvestError) as exc:
                reason = exc.args[0] if isinstance(exc, OaiHarvestError) else None
                rejected.append(
                    (
                        self.env._("page %(page)s", page=page),
                        reason
                        or self.env._(
                            "The OAI-PMH server could not be read (%(error)s); the pages "
                            "already harvested are kept, harvest again to complete.",
                            error=type(exc).__name__,
                        ),
                    )
                )
                state["failed"] = params
                return
            if root is None:  # noRecordsMatch
                return
            token = root.find(f".//{{{NS_OAI}}}resumptionToken")
            params = (
                {"verb": "ListRecords", "resumptionToken": token.text.strip()}
                if token is not None and (token.text or "").strip()
                else None
            )
            future = params and fetcher.submit(_oai_fetch, base_url, params)
            self._oai_page(root, metadata_prefix, rejected, writer, state)

    @api.model
    def _oai_parse(self, content):
        """The parsed answer of one OAI-PMH request, None for noRecordsMatch;
        OaiHarvestError with a translated reason otherwise."""
        try:
            root = etree.fromstring(content, parser=marc_records.xml_parser())
        except etree.XMLSyntaxError as exc:
            raise OaiHarvestError(
                self.env._(
                    "The OAI-PMH server's answer is not valid XML (%(error)s).",
                    error=str(exc)[:200],
                )
            ) from exc
        error = root.find(f"{{{NS_OAI}}}error")
        if error is not None:
            code = error.get("code", "")
            if code == "noRecordsMatch":
                return None
            raise OaiHarvestError(
                self.env._(
                    "The OAI-PMH server refused the request: %(code)s (%(message)s).",
                    code=code,
                    message=(error.text or "").strip()[:300],
                )
            )
        return root

    @api.model
    def _oai_page(self, root, metadata_prefix, rejected, writer, state):
        rows = {}
        deleted = {}
        newest = state["newest"]
        read = 0
        for record in root.iter(f"{{{NS_OAI}}}record"):
            header = record.find(f"{{{NS_OAI}}}header")
            if header is None:
                continue
            read += 1
            identifier = (header.findtext(f"{{{NS_OAI}}}identifier") or "").strip()
            datestamp = (header.findtext(f"{{{NS_OAI}}}datestamp") or "").strip()
            if datestamp and (not newest or datestamp > newest):
                newest = datestamp
            stamp = self._oai_datetime(datestamp)
            if header.get("status") == "deleted":
                deleted[identifier] = stamp
                rows = {k: r for k, r in rows.items() if r["oai_identifier"] != identifier}
                continue
            deleted.pop(identifier, None)
            metadata = record.find(f"{{{NS_OAI}}}metadata")
            try:
                if metadata is None or not len(metadata):
                    raise marc_records.RecordRejected(_lt("The record has no metadata."))
                if metadata_prefix == "marc21":
                    element = next(
                        metadata.iter(f"{{{marc_records.NS_MARCXML}}}record", "record"), None
                    )
                    if element is None:
                        raise marc_records.RecordRejected(_lt("The record has no metadata."))
                    row = marc_records.record_to_row(marc_records.marcxml_to_record(element))
                else:
                    row = marc_records.dc_to_row(metadata[0])
            except marc_records.RecordRejected as exc:
                rejected.append((identifier, self._rejection(exc)))
                continue
            row.update(oai_identifier=identifier, oai_datestamp=stamp, _number=identifier)
            self._merge_row(rows, row)
        writer.submit(list(rows.values()), deleted)
        state["read"] += read
        state["newest"] = newest

    @api.model
    def _oai_datetime(self, datestamp):
        """A datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) as a naive UTC datetime."""
        try:
            return datetime.fromisoformat(datestamp.rstrip("Z")[:19])
        except ValueError:
            return None


class TitleUpsert:
    """INSERT ... ON CONFLICT of title rows by batches, in a thread, so that
    the caller reads the next records while PostgreSQL writes (psycopg2
    releases the GIL during a query). Until finish(), only this thread uses
    the cursor. A batch that fails on a constraint is retried row by row:
    the failing row is rejected, the others kept."""

    def __init__(self, titles):
        env = titles.env
        env.flush_all()
        self.titles = titles
        self.cr = env.cr
        self.company = env.company.id
        self.uid = env.uid
        self.today = fields.Date.context_today(titles)
        self.returned = []
        self.conflicts = []
        self.unchanged = 0
        self.archived = 0
        self.pending = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="title-upsert")
        # Titles typed or imported before the key existed get it from their ISBN.
        self.cr.execute(
            SQL(
                """UPDATE library_new_title SET match_key = isbn
                    WHERE company_id = %s AND match_key IS NULL AND isbn IS NOT NULL""",
                self.company,
            )
        )

    def submit(self, rows, deleted=None):
        """Write rows, then archive the titles of these deleted OAI
        identifiers ({identifier: datestamp})."""
        self._wait()
        self.pending = self.executor.submit(self._write, rows, deleted)

    def _wait(self):
        if self.pending:
            pending, self.pending = self.pending, None
            pending.result()

    def finish(self):
        """Wait for the last batch; the counts, with the rejected rows'
        reasons translated, and the written titles' audience."""
        try:
            self._wait()
        finally:
            self.executor.shutdown(wait=True, cancel_futures=True)
        titles = self.titles
        created = sum(1 for _id, is_new in self.returned if is_new)
        changed_ids = list({title_id for title_id, _new in self.returned})
        if changed_ids:
            titles._recompute_audience_sql(
                changed_ids, [title_id for title_id, is_new in self.returned if not is_new]
            )
        titles.invalidate_model()
        return {
            "created": created,
            "updated": len(self.returned) - created,
            "unchanged": self.unchanged,
            "archived": self.archived,
            "rejected": [
                (
                    number,
                    titles.env._(
                        "The title conflicts with another title of the library "
                        "(same ISBN or identifier): %(error)s",
                        error=error,
                    ),
                )
                for number, error in self.conflicts
            ],
        }

    def _write(self, rows, deleted=None):
        if rows:
            self._write_rows(rows)
        if deleted:
            self.cr.execute(
                SQL(
                    """UPDATE library_new_title
                          SET active = false, source_deleted = true, write_uid = %s,
                              write_date = now() AT TIME ZONE 'UTC'
                        WHERE company_id = %s AND oai_identifier = ANY(%s)
                          AND NOT (source_deleted AND NOT active)""",
                    self.uid,
                    self.company,
                    list(deleted),
                )
            )
            self.archived += self.cr.rowcount

    def _write_rows(self, rows):
        try:
            with self.cr.savepoint(flush=False):
                returned = self._batch(rows)
        except IntegrityError:
            returned = []
            for row in rows:
                try:
                    with self.cr.savepoint(flush=False):
                        returned += self._batch([row])
                except IntegrityError as exc:
                    _logger.info("Title row rejected: %s", exc.diag.message_primary)
                    self.conflicts.append((row.get("_number"), exc.diag.message_primary))
                    self.unchanged -= 1
        self.returned += returned
        self.unchanged += len(rows) - len(returned)

    def _batch(self, rows):
        cr = self.cr
        # A harvested record without ISBN keeps its title when its title changes.
        oai_ids = [
            row["oai_identifier"] for row in rows if row.get("oai_identifier") and not row["isbn"]
        ]
        if oai_ids:
            cr.execute(
                SQL(
                    """SELECT oai_identifier, match_key FROM library_new_title
                        WHERE company_id = %s AND oai_identifier = ANY(%s)
                          AND match_key IS NOT NULL""",
                    self.company,
                    oai_ids,
                )
            )
            keys = dict(cr.fetchall())
            for row in rows:
                if row.get("oai_identifier") in keys and not row["isbn"]:
                    row["match_key"] = keys[row["oai_identifier"]]
        columns = [SQL.identifier(column) for column in IMPORT_COLUMNS]
        # One array per column, unnested in the database: a batch is one
        # statement with 19 parameters.
        arrays = SQL(", ").join(
            SQL(
                "%s::" + IMPORT_TYPES.get(column, "varchar") + "[]",
                [row.get(column) for row in rows],
            )
            for column in (*IMPORT_COLUMNS, "match_key")
        )
        values = SQL(
            """SELECT u.*, %s, %s::date, true, false, %s, %s, now() AT TIME ZONE 'UTC',
                      now() AT TIME ZONE 'UTC'
                 FROM unnest(%s) AS u""",
            self.company,
            self.today,
            self.uid,
            self.uid,
            arrays,
        )
        kept = SQL(", ").join(
            SQL("COALESCE(EXCLUDED.%s, t.%s)", column, column) for column in columns
        )
        current = SQL(", ").join(SQL("t.%s", column) for column in columns)
        cr.execute(
            SQL(
                """
                INSERT INTO library_new_title AS t
                       (%(columns)s, match_key, company_id, arrival_date, active,
                        source_deleted, create_uid, write_uid, create_date, write_date)
                %(values)s
                ON CONFLICT (company_id, match_key) WHERE match_key IS NOT NULL
                DO UPDATE SET (%(columns)s, active, source_deleted, write_uid, write_date)
                            = (%(kept)s, t.active OR t.source_deleted, false,
                               EXCLUDED.write_uid, EXCLUDED.write_date)
                 WHERE (%(current)s) IS DISTINCT FROM (%(kept)s) OR t.source_deleted
                RETURNING t.id, (t.xmax = 0)
                """,
                columns=SQL(", ").join(columns),
                values=values,
                kept=kept,
                current=current,
            )
        )
        return cr.fetchall()


def _oai_fetch(base_url, params):
    """The body of one OAI-PMH request (run in the harvest's fetch thread:
    no environment here)."""
    response = requests.get(base_url, params=params, timeout=OAI_TIMEOUT)
    response.raise_for_status()
    return response.content


class OaiHarvestError(Exception):
    """An OAI-PMH request failed: args[0] is the translated reason."""
