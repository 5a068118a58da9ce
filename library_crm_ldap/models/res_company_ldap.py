# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Campus login: the first LDAP login of a reader links the new user to the
reader the library already has (matched by a number the directory carries),
as a portal user; staff get an internal user only when the LDAP
configuration allows it. Every other first login is refused."""

import logging

import ldap
from ldap.filter import filter_format

from odoo import fields, models
from odoo.exceptions import AccessDenied
from odoo.fields import Command

_logger = logging.getLogger(__name__)

LIBRARY_FIELDS = (
    "library_campus_login",
    "library_number_attribute",
    "library_number_field",
    "library_staff_filter",
    "library_staff_group_dn",
    "library_staff_internal",
)


class ResCompanyLdap(models.Model):
    _inherit = "res.company.ldap"

    library_campus_login = fields.Boolean(
        default=True,
        help="First logins are for the library's readers: a campus account becomes a portal "
        "user linked to the reader whose number the directory gives, and nobody else gets a "
        "user, except staff when allowed below. Off: Odoo's own LDAP behaviour (the template "
        "user is copied for every new login).",
    )
    library_number_attribute = fields.Char(
        string="Reader Number Attribute",
        default="employeeNumber",
        help="The LDAP attribute that carries the person's number, e.g. employeeNumber, "
        "uid or a campus-specific attribute.",
    )
    library_number_field = fields.Selection(
        [
            ("reader_campus_card", "Campus Card Number"),
            ("reader_student_number", "Student/Staff Number"),
            ("reader_card_number", "Library Card Number"),
        ],
        string="Matched Reader Number",
        default="reader_campus_card",
        required=True,
        help="The reader number the LDAP attribute is compared with.",
    )
    library_staff_filter = fields.Char(
        string="Staff Filter",
        help="An LDAP filter that the entry of a staff member matches, e.g. "
        "(employeeType=staff), (ou:dn:=staff) or (memberOf=cn=library,ou=groups,dc=campus,"
        "dc=edu). Empty: nobody is staff.",
    )
    library_staff_group_dn = fields.Char(
        string="Staff Group DN",
        help="The DN of a directory group (groupOfNames or groupOfUniqueNames) whose members "
        "are staff, e.g. cn=library-staff,ou=groups,dc=campus,dc=edu. A person is staff when "
        "they match the staff filter or belong to this group.",
    )
    library_staff_internal = fields.Boolean(
        string="Staff Get Internal Users",
        help="Staff (see the staff filter) get an internal user (Employee, no library role: "
        "give roles by hand, or copy the template user) on their first login. Off: staff are "
        "treated as readers and get portal access when the library knows them as readers.",
    )

    def _get_ldap_dicts(self):
        confs = super()._get_ldap_dicts()
        if not confs:
            return confs
        extra = {
            values["id"]: values
            for values in self.sudo()
            .browse([conf["id"] for conf in confs])
            .read(list(LIBRARY_FIELDS))
        }
        for conf in confs:
            conf.update({name: extra[conf["id"]][name] for name in LIBRARY_FIELDS})
        return confs

    def _get_or_create_user(self, conf, login, ldap_entry):
        if not conf.get("library_campus_login"):
            return super()._get_or_create_user(conf, login, ldap_entry)
        login = login.lower().strip()
        self.env.cr.execute("SELECT id FROM res_users WHERE lower(login)=%s", (login,))
        if self.env.cr.fetchone() or not conf["create_user"]:
            # A known login, or no user creation at all: Odoo's rule.
            return super()._get_or_create_user(conf, login, ldap_entry)
        dn = ldap_entry[0]
        reader = self._library_find_reader(conf, ldap_entry)
        if self._library_is_staff(conf, dn) and conf.get("library_staff_internal"):
            return self._library_create_user(conf, login, ldap_entry, reader, internal=True)
        if reader:
            return self._library_create_user(conf, login, ldap_entry, reader, internal=False)
        _logger.info("Campus login refused for %s: no reader of the library has its number.", dn)
        raise AccessDenied(
            self.env._(
                "The library knows no reader with the number of this campus account: ask the "
                "library to register you."
            )
        )

    def _library_number(self, conf, ldap_entry):
        """The person's number from their entry, normalised like the reader's;
        False when the entry has none or several."""
        wanted = (conf.get("library_number_attribute") or "").strip().lower()
        values = next(
            (values for name, values in ldap_entry[1].items() if name.lower() == wanted), []
        )
        normalize = self.env["res.partner"]._normalize_card_number
        numbers = {
            normalize(value.decode(errors="replace") if isinstance(value, bytes) else value)
            for value in values
        } - {False}
        return numbers.pop() if len(numbers) == 1 else False

    def _library_find_reader(self, conf, ldap_entry):
        """The one active reader of the configuration's company whose number
        is the entry's; an empty recordset when none or several are. A reader
        who already has a user (another login) is refused: one person, one
        user, and never someone else's."""
        Partner = self.env["res.partner"].sudo()
        number = self._library_number(conf, ldap_entry)
        field = conf.get("library_number_field") or "reader_campus_card"
        if not number or field not in Partner._fields:
            return Partner
        readers = Partner.search(
            [
                (field, "=", number),
                ("is_reader", "=", True),
                ("company_id", "in", [conf["company"][0], False]),
            ]
        )
        if len(readers) != 1:
            return Partner
        if readers.with_context(active_test=False).user_ids:
            _logger.warning(
                "Campus login refused for %s: the reader it matches already has a user.",
                ldap_entry[0],
            )
            raise AccessDenied(
                self.env._(
                    "Your reader record already has another user account: ask the library "
                    "to link your campus account to it."
                )
            )
        return readers

    def _library_is_staff(self, conf, dn):
        """Whether the entry `dn` matches the staff filter or is a member of
        the staff group, asked of the directory itself (base searches on the
        entry and on the group)."""
        staff_filter = (conf.get("library_staff_filter") or "").strip()
        group_dn = (conf.get("library_staff_group_dn") or "").strip()
        if not staff_filter and not group_dn:
            return False
        if staff_filter and not staff_filter.startswith("("):
            staff_filter = f"({staff_filter})"
        searches = []
        if staff_filter:
            searches.append((dn, staff_filter))
        if group_dn:
            searches.append((group_dn, filter_format("(|(member=%s)(uniqueMember=%s))", [dn, dn])))
        try:
            connection = self._connect(conf)
            connection.simple_bind_s(conf["ldap_binddn"] or "", conf["ldap_password"] or "")
            try:
                return any(
                    connection.search_st(base, ldap.SCOPE_BASE, search, ["1.1"], timeout=60)
                    for base, search in searches
                )
            finally:
                connection.unbind()
        except ldap.LDAPError as error:
            _logger.error("LDAP staff check for %s failed: %s", dn, error)
            return False

    def _library_create_user(self, conf, login, ldap_entry, reader, internal):
        """A user for the campus account: on the reader's own contact when
        the library knows them (no second contact), a portal user for a
        reader, an internal user (Employee only, or a copy of the template
        user) for allowed staff."""
        Users = self.env["res.users"].sudo().with_context(no_reset_password=True)
        company_id = conf["company"][0]
        values = {
            "login": login,
            "company_id": company_id,
            "company_ids": [Command.set([company_id])],
        }
        if reader:
            values["partner_id"] = reader.id
        else:
            values.update(self._map_ldap_attributes(conf, login, ldap_entry))
            name = values.get("name")
            if isinstance(name, bytes):
                values["name"] = name.decode()
        if internal and conf["user"]:
            values["active"] = True
            user = Users.browse(conf["user"][0]).copy(default=values)
        else:
            group = "base.group_user" if internal else "base.group_portal"
            values["group_ids"] = [Command.set([self.env.ref(group).id])]
            user = Users.create(values)
        _logger.info(
            "Campus login: %s user %s created for %s%s",
            "internal" if internal else "portal",
            user.id,
            ldap_entry[0],
            f", linked to reader {reader.id}" if reader else "",
        )
        return user.id
