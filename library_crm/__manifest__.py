# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Library CRM",
    "summary": "Reader relationship management for libraries: readers, "
    "departments, liaison librarians, reader imports",
    "version": "19.0.1.0.0",
    "category": "Services/Library",
    "website": "https://github.com/library-crm/library_crm",
    "author": "library_crm contributors",
    "license": "LGPL-3",
    "application": True,
    "depends": ["base_setup", "base_import", "mail", "portal"],
    "external_dependencies": {"python": ["openpyxl"]},
    "data": [
        "security/library_crm_security.xml",
        "security/ir.model.access.csv",
        "data/library_crm_data.xml",
        "data/mail_template_data.xml",
        "views/library_interest_views.xml",
        "views/library_major_views.xml",
        "views/library_interaction_views.xml",
        "views/library_research_project_views.xml",
        "views/library_liaison_deliverable_views.xml",
        "views/library_department_views.xml",
        "views/library_liaison_review_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/library_portal_templates.xml",
        "wizards/library_reader_import_views.xml",
        "wizards/library_handover_views.xml",
        "reports/library_liaison_reports.xml",
        "views/library_crm_menus.xml",
    ],
    "demo": [
        "demo/library_department_demo.xml",
        "demo/res_partner_demo.xml",
        "demo/library_liaison_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "library_crm/static/src/tours/*.js",
        ],
    },
}
