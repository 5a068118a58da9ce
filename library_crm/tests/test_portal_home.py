# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from lxml import etree

from odoo.tests import tagged
from odoo.tools.misc import file_open

from .common import LibraryCrmHttpCase

TILE_ICONS = (
    "portal-suggestions.svg",
    "portal-points.svg",
    "portal-usage.svg",
    "portal-preferences.svg",
    # Rendered hidden, shown when the reader has a review to answer.
    "portal-liaison-review.svg",
    # Rendered hidden, shown when the reader has an annual reading report.
    "portal-reading-report.svg",
)


@tagged("post_install", "-at_install")
class TestPortalHome(LibraryCrmHttpCase):
    def test_reader_tiles_show_pictograms_of_portal_size(self):
        """The library's tiles on the portal home carry pictograms like
        Odoo's own (64 px SVG), not the 256 px app icon."""
        self.user_portal.partner_id.is_reader = True
        self.authenticate_as(self.user_portal)
        response = self.url_open("/my")
        self.assertEqual(response.status_code, 200)
        icons = set(re.findall(r"/library_crm/static/src/img/[\w-]+\.svg", response.text))
        self.assertEqual(icons, {f"/library_crm/static/src/img/{name}" for name in TILE_ICONS})
        self.assertNotIn("/library_crm/static/description/icon.png", response.text)
        for icon in icons:
            self.assertEqual(self.url_open(icon).status_code, 200, icon)

    def test_pictograms_are_64_px(self):
        for name in TILE_ICONS:
            with file_open(f"library_crm/static/src/img/{name}", "rb") as svg:
                root = etree.fromstring(svg.read())
            self.assertEqual(
                (root.get("width"), root.get("height"), root.get("viewBox")),
                ("64", "64", "0 0 64 64"),
                name,
            )
