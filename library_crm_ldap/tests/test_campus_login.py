# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Campus login against a real OpenLDAP server (slapd) started for these
tests on a loopback port, in a temporary folder, and stopped after."""

import re

import odoo
from odoo.exceptions import AccessDenied
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.library_crm.tests.common import LibraryCrmCase, LibraryCrmHttpCase

from .slapd import ROOT_DN, ROOT_PASSWORD, SUFFIX, SlapdServer, person_ldif

PASSWORDS = {
    "zhangsan": "zs-campus-pw",
    "lisi": "ls-campus-pw",
    "wanglaoshi": "wls-campus-pw",
    "zhaogong": "zg-campus-pw",
    "nobody": "nb-campus-pw",
    "nonumber": "nn-campus-pw",
}


class CampusLdapCommon:
    """A real slapd with the campus directory, an LDAP configuration that
    points to it, and the readers the library already has."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_campus_ldap()

    @classmethod
    def _setup_campus_ldap(cls):
        cls.slapd = SlapdServer()
        cls.addClassCleanup(cls.slapd.stop)
        cls.slapd.start(
            [
                # Two readers: employeeNumber carries the campus card number.
                person_ldif("zhangsan", "张三", PASSWORDS["zhangsan"], employeeNumber="C500001"),
                person_ldif("lisi", "李四", PASSWORDS["lisi"], employeeNumber="c500002"),
                # Staff: in ou=staff, employeeType staff.
                person_ldif(
                    "wanglaoshi",
                    "王老师",
                    PASSWORDS["wanglaoshi"],
                    ou="staff",
                    employeeNumber="C500003",
                    employeeType="staff",
                ),
                person_ldif(
                    "zhaogong",
                    "赵工",
                    PASSWORDS["zhaogong"],
                    ou="staff",
                    employeeNumber="T900001",
                    employeeType="staff",
                ),
                # A campus account the library does not know as a reader.
                person_ldif("nobody", "无名", PASSWORDS["nobody"], employeeNumber="C599999"),
                # An account without a number.
                person_ldif("nonumber", "无号", PASSWORDS["nonumber"]),
                # A directory group of staff (zhaogong only).
                "\n".join(
                    [
                        f"dn: cn=library-staff,{SUFFIX}",
                        "objectClass: groupOfNames",
                        "cn: library-staff",
                        f"member: uid=zhaogong,ou=staff,{SUFFIX}",
                    ]
                ),
            ]
        )
        cls.ldap_conf = cls.env["res.company.ldap"].create(
            {
                "company": cls.env.company.id,
                "ldap_server": "127.0.0.1",
                "ldap_server_port": cls.slapd.port,
                "ldap_binddn": ROOT_DN,
                "ldap_password": ROOT_PASSWORD,
                "ldap_base": SUFFIX,
                "ldap_filter": "(uid=%s)",
                "library_number_attribute": "employeeNumber",
                "library_number_field": "reader_campus_card",
                "library_staff_filter": "(employeeType=staff)",
                "sequence": 0,
            }
        )
        Partner = cls.env["res.partner"]
        cls.reader_zhang = Partner.create(
            {
                "name": "张三 (library)",
                "is_reader": True,
                "reader_card_number": "L500001",
                "reader_campus_card": "C500001",
                "reader_category": "undergraduate",
            }
        )
        cls.reader_li = Partner.create(
            {
                "name": "李四 (library)",
                "is_reader": True,
                "reader_campus_card": "C500002",
                "reader_category": "postgraduate",
            }
        )
        cls.reader_wang = Partner.create(
            {
                "name": "王老师 (library)",
                "is_reader": True,
                "reader_campus_card": "C500003",
                "reader_category": "faculty",
            }
        )


@tagged("post_install", "-at_install")
class TestCampusLogin(CampusLdapCommon, LibraryCrmCase):
    def _login(self, login, password=None):
        credential = {
            "type": "password",
            "login": login,
            "password": PASSWORDS.get(login, "") if password is None else password,
        }
        return self.env["res.users"].authenticate(credential, {"interactive": True})["uid"]

    def _user(self, uid):
        return self.env["res.users"].browse(uid)

    def _users_of(self, login):
        return (
            self.env["res.users"].with_context(active_test=False).search([("login", "=", login)])
        )

    def _assert_refused(self, login, password=None):
        with mute_logger("odoo.addons.base.models.res_users"), self.assertRaises(AccessDenied):
            self._login(login, password)
        self.assertFalse(self._users_of(login), f"no user for {login}")

    def test_reader_first_login_links_to_the_reader_and_is_portal(self):
        partners = self.env["res.partner"].with_context(active_test=False).search_count([])
        uid = self._login("zhangsan")
        user = self._user(uid)
        self.assertEqual(user.partner_id, self.reader_zhang, "no second contact")
        self.assertEqual(user.name, "张三 (library)", "the library's name stays")
        self.assertTrue(user._is_portal())
        self.assertEqual(user.group_ids, self.env.ref("base.group_portal"))
        self.assertFalse(user.has_group("base.group_user"))
        self.assertEqual(
            self.env["res.partner"].with_context(active_test=False).search_count([]), partners
        )
        # The number is compared normalised (the directory has "c500002").
        li = self._user(self._login("lisi"))
        self.assertEqual(li.partner_id, self.reader_li)
        # The second login is the same user.
        self.assertEqual(self._login("zhangsan"), uid)
        self.assertEqual(len(self._users_of("zhangsan")), 1)

    def test_wrong_password_refused(self):
        self._assert_refused("zhangsan", "not-the-password")
        self._assert_refused("zhangsan", "")
        uid = self._login("zhangsan")
        with mute_logger("odoo.addons.base.models.res_users"), self.assertRaises(AccessDenied):
            self._login("zhangsan", "still-wrong")
        self.assertEqual(self._users_of("zhangsan").id, uid)

    def test_reader_without_a_matching_number_is_refused(self):
        self._assert_refused("nobody")
        # No number in the entry: no reader is chosen.
        self._assert_refused("nonumber")
        # An archived reader (staff who left) does not log in either.
        self.reader_li.action_archive()
        self._assert_refused("lisi")
        # Unknown to the directory.
        self._assert_refused("ghost", "whatever")

    def test_reader_who_already_has_a_user_is_never_given_a_second(self):
        existing = self._new_user(
            "zhang.portal", "base.group_portal", partner_id=self.reader_zhang.id
        )
        self.assertEqual(self.reader_zhang.user_ids, existing)
        self._assert_refused("zhangsan")
        self.assertEqual(self.reader_zhang.with_context(active_test=False).user_ids, existing)

    def test_staff_without_the_allowance_are_not_internal(self):
        self.assertFalse(self.ldap_conf.library_staff_internal)
        # Staff the library knows as a reader get portal access, as readers.
        user = self._user(self._login("wanglaoshi"))
        self.assertEqual(user.partner_id, self.reader_wang)
        self.assertFalse(user.has_group("base.group_user"))
        self.assertTrue(user._is_portal())
        # Staff who are no reader: refused.
        self._assert_refused("zhaogong")

    def test_staff_with_the_allowance_are_internal_employees_only(self):
        self.ldap_conf.library_staff_internal = True
        wang = self._user(self._login("wanglaoshi"))
        self.assertEqual(wang.partner_id, self.reader_wang)
        zhao = self._user(self._login("zhaogong"))
        self.assertEqual(zhao.name, "赵工")
        for user in (wang, zhao):
            with self.subTest(user=user.login):
                self.assertTrue(user.has_group("base.group_user"))
                self.assertEqual(user.group_ids, self.env.ref("base.group_user"))
                self.assertFalse(user.has_group("library_crm.group_library_librarian"))
                self.assertFalse(user.has_group("base.group_system"))
        # Readers stay portal users whatever the allowance.
        zhang = self._user(self._login("zhangsan"))
        self.assertTrue(zhang._is_portal())

    def test_staff_by_group_membership(self):
        self.ldap_conf.write(
            {
                "library_staff_filter": False,
                "library_staff_group_dn": f"cn=no-such-group,{SUFFIX}",
                "library_staff_internal": True,
            }
        )
        # A group that does not exist makes nobody staff: zhaogong is no reader.
        with mute_logger("odoo.addons.library_crm_ldap.models.res_company_ldap"):
            self._assert_refused("zhaogong")
        self.ldap_conf.library_staff_group_dn = f"cn=library-staff,{SUFFIX}"
        zhao = self._user(self._login("zhaogong"))
        self.assertEqual(zhao.group_ids, self.env.ref("base.group_user"))
        # Not a member: a reader like the others, portal only.
        wang = self._user(self._login("wanglaoshi"))
        self.assertEqual(wang.partner_id, self.reader_wang)
        self.assertTrue(wang._is_portal())

    def test_staff_template_user_is_the_configured_role(self):
        template = self._new_user(
            "campus.template", "library_crm.group_library_librarian", name="Campus Template"
        )
        template.active = False
        self.ldap_conf.write({"library_staff_internal": True, "user": template.id})
        zhao = self._user(self._login("zhaogong"))
        self.assertTrue(zhao.active)
        self.assertTrue(zhao.has_group("library_crm.group_library_librarian"))
        # Readers never copy the template: they stay portal.
        zhang = self._user(self._login("zhangsan"))
        self.assertFalse(zhang.has_group("library_crm.group_library_librarian"))
        self.assertTrue(zhang._is_portal())

    def test_other_number_fields_and_switching_off(self):
        self.ldap_conf.write(
            {"library_number_attribute": "uid", "library_number_field": "reader_card_number"}
        )
        self.reader_li.reader_card_number = "LISI"
        self.assertEqual(self._user(self._login("lisi")).partner_id, self.reader_li)
        # Off: Odoo's own behaviour (here: no template user, a new internal user).
        self.ldap_conf.library_campus_login = False
        nobody = self._user(self._login("nobody"))
        self.assertNotIn(nobody.partner_id, self.reader_zhang | self.reader_li)
        self.assertEqual(nobody.name, "无名")


@tagged("post_install", "-at_install")
class TestCampusLoginHttp(CampusLdapCommon, LibraryCrmHttpCase):
    def _web_login(self, login, password):
        self.authenticate(None, None)
        page = self.url_open("/web/login").text
        csrf = re.search(r'name="csrf_token" value="(\w+)"', page).group(1)
        return self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": csrf},
        )

    def _session_uid(self):
        sid = self.opener.cookies.get("session_id")
        return odoo.http.root.session_store.get(sid).uid if sid else None

    def test_reader_logs_in_on_the_login_page_and_reaches_the_portal(self):
        with mute_logger("odoo.addons.base.models.res_users"):
            refused = self._web_login("zhangsan", "not-the-password")
        self.assertIn('class="alert alert-danger" role="alert"', refused.text)
        self.assertIn("oe_login_form", refused.text)
        self.assertFalse(self._session_uid())
        # The right password of an account that is no reader: refused too.
        with mute_logger("odoo.addons.base.models.res_users"):
            stranger = self._web_login("nobody", PASSWORDS["nobody"])
        self.assertIn('class="alert alert-danger" role="alert"', stranger.text)
        self.assertFalse(self._session_uid())
        self.assertFalse(self.env["res.users"].search([("login", "=", "nobody")]))
        response = self._web_login("zhangsan", PASSWORDS["zhangsan"])
        user = self.env["res.users"].search([("login", "=", "zhangsan")])
        self.assertEqual(user.partner_id, self.reader_zhang)
        self.assertTrue(user._is_portal())
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.url.rstrip("/").endswith("/my"), response.url)
        self.assertIn("张三 (library)", response.text)
        self.assertEqual(self._session_uid(), user.id)

    def test_nobody_but_an_administrator_changes_the_campus_login_rules(self):
        """The staff allowance is on res.company.ldap, which only
        administrators read or write (auth_ldap's access rights); no context
        lets a librarian or a portal user turn it on."""
        self.ldap_conf.flush_recordset()
        for user in (self.user_portal, self.user_internal, self.user_librarian, self.user_manager):
            for method, args in (
                ("write", [[self.ldap_conf.id], {"library_staff_internal": True}]),
                ("read", [[self.ldap_conf.id], ["ldap_password", "library_staff_filter"]]),
            ):
                with self.subTest(user=user.login, method=method):
                    self.authenticate_as(user)
                    with self.assertRaises(Exception) as error:
                        self.make_jsonrpc_request(
                            f"/web/dataset/call_kw/res.company.ldap/{method}",
                            {
                                "model": "res.company.ldap",
                                "method": method,
                                "args": args,
                                "kwargs": {"context": {"active_test": False, "su": True}},
                            },
                        )
                    self.assertIn("AccessError", str(error.exception))
        self.ldap_conf.invalidate_recordset()
        self.assertFalse(self.ldap_conf.library_staff_internal)
