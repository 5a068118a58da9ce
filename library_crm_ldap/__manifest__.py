# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Library CRM Campus Login",
    "summary": "Readers and staff log in with their campus account (LDAP, 统一身份认证)",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tools",
    "website": "https://github.com/library-crm/library_crm",
    "author": "library_crm contributors",
    "license": "LGPL-3",
    "depends": ["auth_ldap", "library_crm"],
    "data": ["views/res_company_ldap_views.xml"],
    "external_dependencies": {"python": ["python-ldap"]},
    "auto_install": True,
}
