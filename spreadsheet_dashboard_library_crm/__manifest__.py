# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Library CRM Dashboard",
    "summary": "Reader Relations dashboard (读者关系) in Odoo's Dashboards app",
    "version": "19.0.1.0.0",
    "category": "Productivity/Dashboard",
    "website": "https://github.com/library-crm/library_crm",
    "author": "library_crm contributors",
    "license": "LGPL-3",
    "depends": ["spreadsheet_dashboard", "library_crm"],
    "data": ["data/dashboards.xml"],
    "assets": {
        "web.assets_tests": [
            "spreadsheet_dashboard_library_crm/static/tests/tours/*.js",
        ],
    },
    "auto_install": True,
}
