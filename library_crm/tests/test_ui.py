# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import LibraryCrmHttpCase


@tagged("post_install", "-at_install")
class TestLibraryCrmTour(LibraryCrmHttpCase):
    def test_reader_tour(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.user_librarian.lang = "zh_CN"
        department = self.env["library.department"].create(
            {"name": "Tour Physics", "code": "TPHY"}
        )
        self.env["library.major"].create(
            {"name": "Tour Optics", "code": "TPHY01", "department_id": department.id}
        )
        self.start_tour("/odoo", "library_crm_reader_tour", login=self.user_librarian.login)
        reader = self.env["res.partner"].search([("reader_card_number", "=", "TOUR-2026-001")])
        self.assertRecordValues(
            reader,
            [
                {
                    "name": "Tour Reader",
                    "is_reader": True,
                    "reader_category": "faculty",
                    "library_department_id": department.id,
                }
            ],
        )
        self.assertEqual(reader.library_major_id.code, "TPHY01")

    def test_import_source_tour(self):
        """A library manager configures a folder source in the web client
        (in English: the tour picks the selection values by their labels)."""
        self.env["res.lang"]._activate_lang("en_US")
        self.user_manager.lang = "en_US"
        self.start_tour("/odoo", "library_crm_import_source_tour", login=self.user_manager.login)
        source = self.env["library.import.source"].search([("name", "=", "Campus roster tour")])
        self.assertRecordValues(
            source,
            [{"kind": "readers", "location": "folder", "folder_path": "/srv/library/roster"}],
        )
        self.assertTrue(source.next_run_at, "Run Now handed it to the scheduler")
