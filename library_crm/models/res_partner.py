# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain
from odoo.modules.db import FunctionStatus
from odoo.orm.utils import parse_field_expr
from odoo.tools import SQL
from odoo.tools.sql import create_index

from .library_rights import check_librarian, is_manager

CONSENT_FIELDS = {
    "service": "consent_service",
    "news": "consent_news",
    "surveys": "consent_surveys",
    "new_titles": "consent_new_titles",
}

READER_CATEGORIES = [
    ("undergraduate", "Undergraduate"),
    ("postgraduate", "Postgraduate"),
    ("doctoral", "Doctoral Student"),
    ("faculty", "Faculty"),
    ("staff", "Staff"),
    ("alumni", "Alumni"),
    ("public", "Public"),
]

EDUCATION_LEVELS = [
    ("secondary", "Secondary School"),
    ("junior_college", "Junior College"),
    ("bachelor", "Bachelor"),
    ("master", "Master"),
    ("doctorate", "Doctorate"),
]

# The numbers that identify a reader: library card, campus card (一卡通),
# student/staff number (学工号). Each is normalised and unique per company.
READER_NUMBER_FIELDS = ("reader_card_number", "reader_campus_card", "reader_student_number")

# Finding a partner by name compares each of these columns with ILIKE
# '%term%' (_rec_names_search): a trigram index on each lets PostgreSQL
# combine them (BitmapOr) instead of reading every contact.
SEARCH_TRIGRAM_COLUMNS = (
    "complete_name",
    "email",
    "ref",
    "vat",
    "company_registry",
    "reader_card_number",
)
# A term this short has no trigram (a Chinese name of two characters, 张伟):
# names are then found through the index of their one- and two-character
# substrings, the other columns by their start.
SHORT_TERM = 2
SHORT_TERM_WILDCARDS = "%_\\"
# A term first looks for its matches without any order: when there are at
# most this many, the search goes on with their ids. PostgreSQL cannot
# estimate '%term%' and assumes about 0.01% of a table matches each arm;
# ordered by name with a small limit (name_search, a list's first page), it
# then walks the name index testing every contact, which reads the whole
# table for a card number that matches one reader in a million, and half of
# it for a surname (王) whose readers sit in the middle of the name order.
# Past this many matches they are dense enough for that walk to meet them.
SEARCH_PIN_LIMIT = 20000

LIBRARY_GROUP = "library_crm.group_library_librarian"
# Written by the segmentation and satisfaction engines, in SQL, only.
ENGINE_FIELDS = ("library_metrics_id", "satisfaction_score")


class ResPartner(models.Model):
    _inherit = "res.partner"
    _rec_names_search = [
        "complete_name",
        "email",
        "ref",
        "vat",
        "company_registry",
        "reader_card_number",
    ]

    is_reader = fields.Boolean(string="Reader", index=True, copy=False, tracking=True)
    reader_card_number = fields.Char(
        string="Card Number",
        index="btree_not_null",
        copy=False,
        tracking=True,
        help="Library card or account number; stored trimmed and upper-case.",
    )
    reader_campus_card = fields.Char(
        string="Campus Card Number",
        index="btree_not_null",
        copy=False,
        tracking=True,
        help="The campus card (一卡通) number from the campus registry; stored trimmed and "
        "upper-case.",
    )
    reader_student_number = fields.Char(
        string="Student/Staff Number",
        index="btree_not_null",
        copy=False,
        tracking=True,
        help="The student or staff number (学工号) from the campus registry; stored trimmed "
        "and upper-case.",
    )
    reader_category = fields.Selection(READER_CATEGORIES, index=True, tracking=True)
    library_department_id = fields.Many2one(
        "library.department",
        string="Department",
        index="btree_not_null",
        ondelete="restrict",
        tracking=True,
    )
    library_major_id = fields.Many2one(
        "library.major",
        string="Major",
        index="btree_not_null",
        ondelete="restrict",
        domain="[('department_id', '=?', library_department_id)]",
        tracking=True,
    )
    education_level = fields.Selection(EDUCATION_LEVELS)
    enrollment_year = fields.Integer(aggregator=False)
    birthdate = fields.Date(groups=LIBRARY_GROUP)
    age = fields.Integer(compute="_compute_age", groups=LIBRARY_GROUP)
    reader_since = fields.Date(copy=False)
    card_expiry_date = fields.Date(copy=False, tracking=True)
    is_card_expired = fields.Boolean(compute="_compute_is_card_expired")
    interest_ids = fields.Many2many(
        "library.interest",
        "library_interest_res_partner_rel",
        "partner_id",
        "interest_id",
        string="Interests",
    )
    wechat_id = fields.Char(string="WeChat ID", groups=LIBRARY_GROUP)
    qq_number = fields.Char(string="QQ Number", groups=LIBRARY_GROUP)  # pylint: disable=attribute-string-redundant
    reader_notes = fields.Html(
        groups=LIBRARY_GROUP,
        help="What the library knows about this reader: impressions, "
        "special information needs, frictions.",
    )
    responsible_librarian_id = fields.Many2one(
        "res.users",
        index="btree_not_null",
        tracking=True,
        domain=lambda self: [("all_group_ids", "in", self.env.ref(LIBRARY_GROUP).id)],
    )

    interaction_ids = fields.One2many("library.interaction", "partner_id", string="Interactions")
    library_reading_report_ids = fields.One2many(
        "library.reading.report",
        "partner_id",
        string="Reading Reports",
        readonly=True,
        groups=LIBRARY_GROUP,
    )
    last_contact_date = fields.Datetime(
        compute="_compute_last_contact", groups=LIBRARY_GROUP, string="Last Contact"
    )
    days_since_contact = fields.Integer(compute="_compute_last_contact", groups=LIBRARY_GROUP)
    timeline_count = fields.Integer(compute="_compute_last_contact", groups=LIBRARY_GROUP)

    # Written by the segmentation engine (library.segmentation), set-based,
    # into library.reader.metrics; read, searched and grouped from here.
    library_metrics_id = fields.Many2one(
        "library.reader.metrics",
        string="Reader Metrics",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups=LIBRARY_GROUP,
    )
    reader_segment = fields.Selection(
        related="library_metrics_id.reader_segment", groups=LIBRARY_GROUP
    )
    is_core_reader = fields.Boolean(
        related="library_metrics_id.is_core_reader", groups=LIBRARY_GROUP
    )
    value_tier = fields.Selection(related="library_metrics_id.value_tier", groups=LIBRARY_GROUP)
    value_score = fields.Integer(related="library_metrics_id.value_score", groups=LIBRARY_GROUP)
    value_depth = fields.Integer(related="library_metrics_id.value_depth", groups=LIBRARY_GROUP)
    value_research = fields.Integer(
        related="library_metrics_id.value_research", groups=LIBRARY_GROUP
    )
    value_participation = fields.Integer(
        related="library_metrics_id.value_participation", groups=LIBRARY_GROUP
    )
    value_visits = fields.Integer(related="library_metrics_id.value_visits", groups=LIBRARY_GROUP)
    value_attention = fields.Integer(
        related="library_metrics_id.value_attention", groups=LIBRARY_GROUP
    )
    segment_explanation = fields.Text(
        compute="_compute_segment_explanation", groups=LIBRARY_GROUP, string="Why this Stage"
    )
    value_explanation = fields.Text(
        compute="_compute_segment_explanation", groups=LIBRARY_GROUP, string="Why this Tier"
    )
    core_reader_pinned = fields.Boolean(
        string="Pinned as Core Reader",
        copy=False,
        groups=LIBRARY_GROUP,
        help="A librarian's decision: core reader whatever the loyalty score.",
    )
    loyalty_score = fields.Integer(
        related="library_metrics_id.loyalty_score", groups=LIBRARY_GROUP
    )
    loyalty_band = fields.Selection(
        related="library_metrics_id.loyalty_band", groups=LIBRARY_GROUP
    )
    loyalty_frequency = fields.Integer(
        related="library_metrics_id.loyalty_frequency", groups=LIBRARY_GROUP
    )
    loyalty_regularity = fields.Integer(
        related="library_metrics_id.loyalty_regularity", groups=LIBRARY_GROUP
    )
    loyalty_recency = fields.Integer(
        related="library_metrics_id.loyalty_recency", groups=LIBRARY_GROUP
    )
    loyalty_breadth = fields.Integer(
        related="library_metrics_id.loyalty_breadth", groups=LIBRARY_GROUP
    )
    loyalty_satisfaction = fields.Integer(
        related="library_metrics_id.loyalty_satisfaction", groups=LIBRARY_GROUP
    )
    satisfaction_score = fields.Float(
        readonly=True,
        copy=False,
        aggregator="avg",
        groups=LIBRARY_GROUP,
        help="0-5; 0 when unknown.",
    )
    usage_first_date = fields.Date(
        related="library_metrics_id.usage_first_date", groups=LIBRARY_GROUP
    )
    last_activity_date = fields.Date(
        related="library_metrics_id.last_activity_date", groups=LIBRARY_GROUP
    )
    usage_count_12m = fields.Integer(
        related="library_metrics_id.usage_count_12m", groups=LIBRARY_GROUP
    )
    loan_count_12m = fields.Integer(
        related="library_metrics_id.loan_count_12m", groups=LIBRARY_GROUP
    )
    active_months_12m = fields.Integer(
        related="library_metrics_id.active_months_12m", groups=LIBRARY_GROUP
    )
    usage_breadth = fields.Integer(
        related="library_metrics_id.usage_breadth", groups=LIBRARY_GROUP
    )
    usage_recent_6m = fields.Integer(
        related="library_metrics_id.usage_recent_6m", groups=LIBRARY_GROUP
    )
    usage_previous_6m = fields.Integer(
        related="library_metrics_id.usage_previous_6m", groups=LIBRARY_GROUP
    )
    participation_count = fields.Integer(
        related="library_metrics_id.participation_count", groups=LIBRARY_GROUP
    )
    usage_ids = fields.One2many("library.usage", "partner_id", groups=LIBRARY_GROUP)
    # Customised service (models/library_service_programme.py).
    library_entitlement_ids = fields.One2many(
        "library.reader.entitlement",
        "partner_id",
        string="Priority Services",
        groups=LIBRARY_GROUP,
    )
    library_programme_log_ids = fields.One2many(
        "library.service.programme.log",
        "partner_id",
        string="Programme Steps",
        groups=LIBRARY_GROUP,
    )

    # Consent per purpose: a mailing of a purpose never reaches a reader who
    # said no to it. Changes are logged in library.consent.log.
    consent_service = fields.Boolean(string="Service Notices", default=True, copy=False)
    consent_news = fields.Boolean(string="Library News and Campaigns", default=True, copy=False)
    consent_surveys = fields.Boolean(string="Surveys", default=True, copy=False)
    consent_new_titles = fields.Boolean(string="New-Title Alerts", default=True, copy=False)
    consent_chosen = fields.Boolean(
        readonly=True,
        copy=False,
        help="The reader's consent was set explicitly (by the reader or for them): the "
        "defaults of their category no longer apply to them.",
    )
    consent_log_ids = fields.One2many(
        "library.consent.log", "partner_id", string="Consent History", groups=LIBRARY_GROUP
    )

    suggestion_ids = fields.One2many("library.suggestion", "partner_id", string="Suggestions")
    suggestion_count = fields.Integer(compute="_compute_suggestion_count")
    points_transaction_ids = fields.One2many(
        "library.points.transaction", "partner_id", string="Points History", groups=LIBRARY_GROUP
    )
    points_balance = fields.Integer(
        string="Points", compute="_compute_points_balance", groups=LIBRARY_GROUP
    )
    # The reader form's timeline pages (read-only reports, per reader).
    library_satisfaction_response_ids = fields.One2many(
        "library.satisfaction.response",
        "partner_id",
        string="Survey Responses",
        groups=LIBRARY_GROUP,
    )
    library_mailing_result_ids = fields.One2many(
        "library.mailing.result", "partner_id", string="Campaigns", groups=LIBRARY_GROUP
    )

    _reader_card_company_unique = models.UniqueIndex(
        "(reader_card_number, COALESCE(company_id, 0)) "
        "WHERE is_reader IS TRUE AND reader_card_number IS NOT NULL",
        "Another reader already has this card number.",
    )
    _reader_campus_card_company_unique = models.UniqueIndex(
        "(reader_campus_card, COALESCE(company_id, 0)) "
        "WHERE is_reader IS TRUE AND reader_campus_card IS NOT NULL",
        "Another reader already has this campus card number.",
    )
    _reader_student_number_company_unique = models.UniqueIndex(
        "(reader_student_number, COALESCE(company_id, 0)) "
        "WHERE is_reader IS TRUE AND reader_student_number IS NOT NULL",
        "Another reader already has this student/staff number.",
    )

    def init(self):
        super().init()
        registry = self.env.registry
        if not registry.has_trigram:
            return
        cr = self.env.cr
        for column in SEARCH_TRIGRAM_COLUMNS:
            expression = f'"{column}"'
            # As Odoo indexes its own trigram fields: searches compare
            # unaccent(column) when unaccent is enabled.
            if registry.has_unaccent == FunctionStatus.INDEXABLE:
                expression = registry.unaccent(expression)
            create_index(
                cr,
                f"res_partner_{column}_library_trgm",
                "res_partner",
                [f"{expression} gin_trgm_ops"],
                method="gin",
            )
        cr.execute(
            SQL(
                """
                CREATE OR REPLACE FUNCTION library_crm_short_grams(value text)
                RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
                    SELECT coalesce(array_agg(DISTINCT substr(lower(value), i, n)), '{}')
                      FROM generate_series(1, length(value)) AS i, (VALUES (1), (2)) AS k(n)
                     WHERE i + n - 1 <= length(value)
                $$
                """
            )
        )
        create_index(
            cr,
            "res_partner_complete_name_library_grams",
            "res_partner",
            ["library_crm_short_grams(complete_name)"],
            method="gin",
        )

    @api.model
    def _search_display_name(self, operator, value):
        """Any of a reader's numbers finds them: the library card number (in
        _rec_names_search), the campus card and the student/staff number,
        compared whole after normalising, so that the btree indexes serve.
        A term of one or two characters finds names that contain it and the
        other columns that start with it, through indexes."""
        domain = self._library_search_domain(operator, value)
        return self._library_pin_matches(operator, value, Domain(domain))

    @api.model
    def _library_search_domain(self, operator, value):
        """What a term compares: Odoo's columns (_rec_names_search), the
        short-term index for one or two characters, the reader's numbers."""
        domain = self._search_short_term(operator, value)
        if domain is None:
            domain = super()._search_display_name(operator, value)
        if operator in ("ilike", "=ilike", "=", "like", "=like") and isinstance(value, str):
            number = self._normalize_card_number(value)
            if number:
                domain = Domain.OR(
                    [
                        domain,
                        Domain("reader_campus_card", "=", number),
                        Domain("reader_student_number", "=", number),
                    ]
                )
        return domain

    @api.model
    def _library_pin_matches(self, operator, value, domain):
        """The same records as ``domain``, as their ids when the term
        matches at most SEARCH_PIN_LIMIT contacts (see there). The look-up
        ignores access rules and archiving, so that it finds a superset of
        what the caller may see: the ids only narrow the caller's own
        search, which applies them."""
        if (
            operator != "ilike"
            or not isinstance(value, str)
            or not value.strip()
            # Refused by psycopg2 before it reaches the server: Odoo's own
            # search raises it, with nothing of ours set in between.
            or "\x00" in value
            or domain.is_true()
            or domain.is_false()
        ):
            return domain
        query = self._search(
            domain, limit=SEARCH_PIN_LIMIT + 1, active_test=False, bypass_access=True
        )
        # Without an order, PostgreSQL may prefer reading the table to the
        # indexes for a term of digits (common in e-mail addresses, so the
        # trigram indexes look costly): 100 ms at 100,000 contacts, where
        # the indexes answer in 3. Every arm has an index; for this query
        # only, the table is read when nothing else can answer.
        cr = self.env.cr
        cr.execute("SHOW enable_seqscan")
        previous = cr.fetchone()[0]
        # (A failing query rolls the transaction back, and the setting with it.)
        cr.execute("SET LOCAL enable_seqscan = off")
        ids = list(query)
        cr.execute(SQL("SELECT set_config('enable_seqscan', %s, true)", previous))
        if len(ids) > SEARCH_PIN_LIMIT:
            return domain
        if not ids:
            return Domain.FALSE
        # The ids as a value PostgreSQL only learns when it runs the query
        # (a sub-select): as a list of constants it would count them and,
        # for thousands, walk the name index again to meet them in order.
        found = frozenset(ids)
        array = sorted(found)
        return Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "%s = ANY(ARRAY(SELECT unnest(%s::int4[])))", SQL.identifier(alias, "id"), array
            ),
            predicate=lambda record: record.id in found,
        )

    @api.model
    def _search_short_term(self, operator, value):
        """The domain for a term too short for the trigram indexes, None for
        any other search (left to Odoo)."""
        registry = self.env.registry
        if (
            operator != "ilike"
            or not isinstance(value, str)
            or not value.strip()
            or len(value) > SHORT_TERM
            or any(char in value for char in SHORT_TERM_WILDCARDS)
            or not registry.has_trigram
            or registry.has_unaccent
        ):
            return None
        arms = []
        for fname in self._rec_names_search:
            if fname == "complete_name":
                # The pieces let an index find the names; strpos() is the
                # cheap test PostgreSQL runs first when it walks the name
                # index in order instead (LIMIT 8): without it, it computed
                # every contact's pieces on the way, 7 s at 1,000,000
                # (benchmarks/RESULTS.md). Not an ILIKE, which the trigram
                # index of names would serve by reading it whole (such a
                # term has no trigram).
                arms.append(
                    Domain.custom(
                        to_sql=lambda model, alias, query: SQL(
                            "(strpos(lower(%(name)s), lower(%(term)s)) > 0"
                            " AND library_crm_short_grams(%(name)s) @> ARRAY[lower(%(term)s)])",
                            name=SQL.identifier(alias, "complete_name"),
                            term=value,
                            to_flush=model._fields["complete_name"],
                        )
                    )
                )
            elif fname in SEARCH_TRIGRAM_COLUMNS:
                arms.append(Domain(fname, "=ilike", f"{value}%"))
            else:
                arms.append(Domain(fname, "ilike", value))
        return Domain.OR(arms)

    def _field_to_sql(self, alias, field_expr, query=None):
        """Odoo turns a related field that is not stored (reader_segment,
        loyalty_score...) into SQL on its target, as superuser, without
        checking the groups= of the field itself: grouping, aggregating or
        ordering readers by their activity would answer any user, portal
        included. Check the field's own groups first."""
        field = self._fields.get(parse_field_expr(field_expr)[0])
        if field is not None and field.related and not field.store:
            self._check_field_access(field, "read")
        return super()._field_to_sql(alias, field_expr, query)

    @api.depends_context("lang")
    @api.depends(
        "reader_segment", "value_tier", "value_score", "active_months_12m", "usage_first_date"
    )
    def _compute_segment_explanation(self):
        explained = self.env["library.segmentation"]._explain(self)
        for partner in self:
            stage, tier = explained.get(partner.id, (False, False))
            partner.segment_explanation = stage
            partner.value_explanation = tier

    @api.depends("birthdate")
    def _compute_age(self):
        today = fields.Date.context_today(self)
        for partner in self:
            partner.age = relativedelta(today, partner.birthdate).years if partner.birthdate else 0

    def _compute_last_contact(self):
        stats = {
            partner.id: (last, count)
            for partner, last, count in self.env["library.contact.timeline"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["date:max", "__count"]
            )
        }
        now = fields.Datetime.now()
        for partner in self:
            last, count = stats.get(partner._origin.id, (False, 0))
            partner.last_contact_date = last
            partner.days_since_contact = (now - last).days if last else 0
            partner.timeline_count = count

    def _compute_suggestion_count(self):
        counts = dict(
            self.env["library.suggestion"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.suggestion_count = counts.get(partner._origin, 0)

    def _compute_points_balance(self):
        balances = self.env["library.points.balance"]._get(self._origin)
        for partner in self:
            partner.points_balance = balances.get(partner._origin.id, 0)

    @api.depends("card_expiry_date")
    def _compute_is_card_expired(self):
        today = fields.Date.context_today(self)
        for partner in self:
            partner.is_card_expired = bool(
                partner.card_expiry_date and partner.card_expiry_date < today
            )

    @api.constrains("library_department_id", "library_major_id")
    def _check_major_department(self):
        for partner in self:
            major = partner.library_major_id
            if major and major.department_id != partner.library_department_id:
                raise ValidationError(
                    self.env._(
                        "The major %(major)s belongs to %(department)s, not to the "
                        "reader's department.",
                        major=major.display_name,
                        department=major.department_id.display_name,
                    )
                )

    @api.constrains("responsible_librarian_id")
    def _check_responsible_is_library_staff(self):
        """Readers are followed by library staff: the field's domain only
        filters the form's choices."""
        for partner in self:
            user = partner.responsible_librarian_id
            if user and not user.has_group(LIBRARY_GROUP):
                raise ValidationError(
                    self.env._(
                        "%(user)s is not library staff and cannot follow %(reader)s.",
                        user=user.name,
                        reader=partner.display_name,
                    )
                )

    @api.constrains("is_reader", "is_company")
    def _check_reader_is_person(self):
        for partner in self:
            if partner.is_reader and partner.is_company:
                raise ValidationError(
                    self.env._(
                        "%(name)s is a company and cannot be a reader.", name=partner.display_name
                    )
                )

    @api.onchange("library_department_id")
    def _onchange_library_department_id(self):
        if self.library_major_id.department_id != self.library_department_id:
            self.library_major_id = False

    @api.onchange("library_major_id")
    def _onchange_library_major_id(self):
        if self.library_major_id:
            self.library_department_id = self.library_major_id.department_id

    @api.model
    def _normalize_card_number(self, card_number):
        """Card numbers come from scanners, spreadsheets and typing: compare
        them trimmed and upper-case."""
        if not card_number:
            return False
        return card_number.strip().upper() or False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "consent_chosen" in vals and not self.env.su:
                raise AccessError(self.env._("Only the reader chooses their consent."))
            if not self.env.su and any(vals.get(name) for name in ENGINE_FIELDS):
                self._raise_engine_field([name for name in ENGINE_FIELDS if vals.get(name)])
        initial = self._library_prepare_create(vals_list, None)
        partners = super().create(vals_list)
        partners._library_after_create(initial)
        return partners

    @api.model
    def _library_create(self, vals_list, channel):
        """create() for the reader import: the initial consent of the new
        readers is logged under ``channel``. (Like _library_write, it calls
        the create() of the modules below this one.)"""
        initial = self._library_prepare_create(vals_list, channel)
        partners = super().create(vals_list)
        partners._library_after_create(initial)
        return partners

    @api.model
    def _library_prepare_create(self, vals_list, channel):
        """Complete the values of new readers: a new reader starts from the
        consent defaults of their category. Returns, per values, the channel
        to log each purpose's initial state under: "default" for a purpose
        that follows the default, "staff" for one set otherwise, or every
        purpose under ``channel`` when given."""
        today = fields.Date.context_today(self)
        for vals in vals_list:
            for name in READER_NUMBER_FIELDS:
                if name in vals:
                    vals[name] = self._normalize_card_number(vals[name])
        defaults = {}
        initial = []
        for vals in vals_list:
            channels = {}
            if vals.get("is_reader"):
                vals.setdefault("reader_since", today)
                key = (vals.get("reader_category"), vals.get("company_id"))
                if key not in defaults:
                    defaults[key] = self.env["library.consent.default"]._defaults_for(
                        key[0], self.env["res.company"].browse(key[1]) or self.env.company
                    )
                for purpose, field in CONSENT_FIELDS.items():
                    default = defaults[key][purpose]
                    if field in vals and bool(vals[field]) != default:
                        channels[purpose] = channel or "staff"
                        vals["consent_chosen"] = True
                    else:
                        vals[field] = default
                        channels[purpose] = channel or "default"
            initial.append(channels)
        return initial

    def _library_after_create(self, initial):
        """Log the initial consent of the new readers (``initial``, from
        _library_prepare_create) and give them their metrics row."""
        partners = self
        self.env["library.consent.log"].sudo().create(
            [
                {
                    "partner_id": partner.id,
                    "purpose": purpose,
                    "consent": partner[CONSENT_FIELDS[purpose]],
                    "channel": purpose_channel,
                }
                for partner, channels in zip(partners, initial, strict=True)
                for purpose, purpose_channel in channels.items()
            ]
        )
        readers = partners.filtered("is_reader")
        if readers:
            self.env["library.reader.metrics"]._ensure_rows(readers.ids)

    def write(self, vals):
        self._check_engine_fields(vals)
        self._check_reader_numbers(vals)
        if "responsible_librarian_id" in vals:
            self._check_responsible_librarian_change(vals["responsible_librarian_id"])
        if (
            "consent_chosen" in vals
            and not self.env.su
            and any(p.consent_chosen != bool(vals["consent_chosen"]) for p in self.sudo())
        ):
            # Writing the current value is no change (a contact merge does).
            raise AccessError(self.env._("Only the reader chooses their consent."))
        before = self._library_before_write(vals)
        res = super().write(vals)
        self._library_after_write(vals, before, "staff")
        return res

    def _check_engine_fields(self, vals):
        """readonly= protects only the form: the fields the library's engines
        write in SQL (a reader's metrics row, their satisfaction score) are
        not set by users over RPC. Writing the current value is no change."""
        if self.env.su:
            return
        changed = []
        for name in ENGINE_FIELDS:
            if name not in vals:
                continue
            field = self._fields[name]
            for partner in self.sudo():
                new_value = field.convert_to_record(
                    field.convert_to_cache(vals[name], partner), partner
                )
                if new_value != partner[name]:
                    changed.append(name)
                    break
        if changed:
            self._raise_engine_field(changed)

    def _check_reader_numbers(self, vals):
        """A reader's numbers identify them, to the roster import and to the
        campus login (library_crm_ldap links a first login to the reader
        with the directory's number): only library staff change them, so
        that no other user gives someone else's reader their own number."""
        names = [name for name in READER_NUMBER_FIELDS if name in vals]
        if not names or self.env.su or self.env.user.has_group(LIBRARY_GROUP):
            return
        for name in names:
            value = self._normalize_card_number(vals[name])
            if any(p.is_reader and p[name] != value for p in self.sudo()):
                raise AccessError(
                    self.env._(
                        "Only library staff change a reader's %(field)s.",
                        field=self._fields[name]._description_string(self.env),
                    )
                )

    def _raise_engine_field(self, names):
        raise AccessError(
            self.env._(
                "%(fields)s: computed by the library, never set by hand.",
                fields=", ".join(
                    self._fields[name]._description_string(self.env) for name in names
                ),
            )
        )

    def _library_set_consent(self, values, channel):
        """The reader's own choice, {purpose: bool}, from ``channel``
        ("portal", "unsubscribe"): the caller has checked who the reader is.
        A plain write() always logs "staff"; no context decides the channel."""
        return self.sudo()._library_write(
            {CONSENT_FIELDS[purpose]: bool(value) for purpose, value in values.items()}, channel
        )

    def _library_write(self, vals, channel):
        """write() whose explicit consent changes are logged under
        ``channel`` ("portal", "unsubscribe", "import"); write() itself always
        logs "staff". It calls the write() of the modules below this one:
        no context key can carry the channel through write()."""
        before = self._library_before_write(vals)
        res = super().write(vals)
        self._library_after_write(vals, before, channel)
        return res

    def _library_before_write(self, vals):
        """What _library_after_write needs to know of the records before
        ``vals`` are written: (restart, changed)."""
        for name in READER_NUMBER_FIELDS:
            if name in vals:
                vals[name] = self._normalize_card_number(vals[name])
        # {partner id: True when they become a reader, False on a new category}
        restart = {}
        if vals.get("is_reader") or ("reader_category" in vals and vals.get("is_reader", True)):
            for partner in self.filtered(lambda p: not p.consent_chosen):
                if vals.get("is_reader") and not partner.is_reader:
                    restart[partner.id] = True
                elif partner.is_reader and partner.reader_category != vals.get(
                    "reader_category", partner.reader_category
                ):
                    restart[partner.id] = False
        changed = {
            purpose: self.filtered(
                lambda p, f=field: (p.is_reader or p.id in restart) and p[f] != bool(vals[f])
            )
            for purpose, field in CONSENT_FIELDS.items()
            if field in vals
        }
        return restart, changed

    def _library_after_write(self, vals, before, channel):
        """Log the explicit consent changes under ``channel`` (the reader
        has chosen from now on), and restart from the category defaults the
        consent of a contact who became a reader or of a reader who changed
        category, as long as the reader has not chosen (``consent_chosen``)."""
        restart, changed = before
        default_channel = "import" if channel == "import" else "default"
        logs = []
        chosen = self.browse()
        for reader in self.browse(list(restart)):
            initial = restart[reader.id]
            defaults = self.env["library.consent.default"]._defaults_for(
                reader.reader_category, reader.company_id or self.env.company
            )
            updates = {
                field: defaults[purpose]
                for purpose, field in CONSENT_FIELDS.items()
                if field not in vals and reader[field] != defaults[purpose]
            }
            if updates:
                super(ResPartner, reader).write(updates)
            for purpose, field in CONSENT_FIELDS.items():
                if field in vals and bool(vals[field]) != defaults[purpose]:
                    logs.append((reader, purpose, channel))
                    chosen |= reader
                elif initial or field in updates or reader in changed.get(purpose, ()):
                    logs.append((reader, purpose, default_channel))
        for purpose, partners in changed.items():
            for partner in partners.filtered(lambda p: p.id not in restart):
                logs.append((partner, purpose, channel))
                chosen |= partner
        self.env["library.consent.log"].sudo().create(
            [
                {
                    "partner_id": partner.id,
                    "purpose": purpose,
                    "consent": partner[CONSENT_FIELDS[purpose]],
                    "channel": log_channel,
                }
                for partner, purpose, log_channel in logs
            ]
        )
        chosen = chosen.filtered(lambda p: not p.consent_chosen)
        if chosen:
            super(ResPartner, chosen).write({"consent_chosen": True})
        if "email" in vals:
            self._library_sync_mailing_contacts()
        if vals.get("is_reader"):
            self.env["library.reader.metrics"]._ensure_rows(self.ids)
            # A reader keeps the date they first became one.
            self.filtered(lambda p: not p.reader_since).reader_since = fields.Date.context_today(
                self
            )
        return True

    def _library_sync_mailing_contacts(self):
        """The contacts standing for these readers in the segment mailing
        lists follow the reader's current e-mail address."""
        contacts = (
            self.env["mailing.contact"].sudo().search([("library_partner_id", "in", self.ids)])
        )
        for contact in contacts:
            email = contact.library_partner_id.email
            if email and contact.email != email:
                contact.email = email

    @api.onchange("is_reader", "reader_category")
    def _onchange_library_consent_defaults(self):
        """The form shows the category's defaults until the reader chooses."""
        if self.is_reader and not self.consent_chosen:
            defaults = self.env["library.consent.default"]._defaults_for(
                self.reader_category, self.company_id or self.env.company
            )
            for purpose, field in CONSENT_FIELDS.items():
                self[field] = defaults[purpose]

    def _check_responsible_librarian_change(self, user_id):
        """A librarian takes a reader nobody follows or gives away their
        own; taking another librarian's readers is a manager's hand-over."""
        if is_manager(self.env):
            return
        others = self.filtered(
            lambda p: (
                p.responsible_librarian_id
                and p.responsible_librarian_id != self.env.user
                and p.responsible_librarian_id.id != user_id
            )
        )
        if others:
            raise AccessError(
                self.env._(
                    "%(readers)s are followed by another librarian: only a library manager "
                    "can hand them over.",
                    readers=", ".join(others.mapped("display_name")),
                )
            )

    def _library_reader_action(self, xmlid, create=True):
        """The window action `xmlid` on this reader's records; new records
        are for this reader unless `create` is False."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("partner_id", "=", self.id)]
        if create:
            action["context"] = {"default_partner_id": self.id}
        return action

    def action_view_timeline(self):
        return self._library_reader_action("library_crm.action_library_contact_timeline")

    def action_view_usage(self):
        return self._library_reader_action("library_crm.action_library_usage", create=False)

    def _library_reading_report(self, year, company_id):
        """This reader's report of the year in that library, for the body of
        the reading report mailing (rendered by the mailing queue), worded in
        the library's language. Empty for callers who are not librarians."""
        self.ensure_one()
        Report = self.env["library.reading.report"]
        if not (
            self.env.su
            or (
                self.env.user.has_group(LIBRARY_GROUP)
                and company_id in self.env.user.company_ids.ids
            )
        ):
            return Report
        company = self.env["res.company"].sudo().browse(company_id)
        return (
            Report.sudo()
            .with_context(lang=company.partner_id.lang or self.env.lang)
            .search(
                [
                    ("partner_id", "=", self.id),
                    ("year", "=", year),
                    ("company_id", "=", company_id),
                ],
                limit=1,
            )
        )

    def _library_digest_titles(self, title_ids):
        """The titles of a digest that concern this reader: their major or
        one of their interests."""
        self.ensure_one()
        titles = self.env["library.new.title"].sudo().browse(title_ids).exists()
        return titles.filtered(
            lambda t: self.library_major_id in t.major_ids or (self.interest_ids & t.interest_ids)
        )

    def action_view_suggestions(self):
        return self._library_reader_action("library_crm.action_library_suggestion")

    def action_view_points(self):
        return self._library_reader_action("library_crm.action_library_points_transaction")

    def action_recompute_segment(self):
        check_librarian(self.env)
        self.check_access("write")
        self.env["library.segmentation"]._recompute_readers(self.ids)
        return True
