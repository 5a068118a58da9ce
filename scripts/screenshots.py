#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Screenshots of the main screens and page 1 of each PDF, from the running
demo database (scripts/run.sh), into library_crm/static/description/.

    scripts/screenshots.sh            (makes .venv-shots with playwright, then runs this)

Logs in as the demo administrator (admin/admin) in Chinese, and as a demo
reader on the portal (the first reader with a portal account; its password
is set to a random one for the run). PDFs are downloaded with the
administrator's session and page 1 is rendered with pdftoppm."""

import argparse
import json
import pathlib
import secrets
import subprocess
import tempfile
import urllib.request
from http.cookiejar import CookieJar

from playwright.sync_api import sync_playwright

OUT = pathlib.Path(__file__).resolve().parent.parent / "library_crm/static/description"


class Rpc:
    def __init__(self, url, db, login, password):
        self.url = url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self._post("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def _post(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(
            self.url + path, body, {"Content-Type": "application/json"}
        )
        reply = json.loads(self.opener.open(request).read())
        if reply.get("error"):
            raise RuntimeError(json.dumps(reply["error"], ensure_ascii=False)[:2000])
        return reply["result"]

    def call(self, model, method, *args, **kwargs):
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def download(self, path):
        return self.opener.open(self.url + path).read()


def pdf_page_one(rpc, report, record_id, name):
    data = rpc.download(f"/report/pdf/{report}/{record_id}")
    if not data.startswith(b"%PDF"):
        raise RuntimeError(f"{report} did not render a PDF")
    with tempfile.TemporaryDirectory() as folder:
        pdf = pathlib.Path(folder) / "report.pdf"
        pdf.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, OUT / name],
            check=True,
        )
    print(OUT / f"{name}.png")


def pdfs(rpc):
    first = {}
    for model in ("library.suggestion", "library.department", "library.liaison.review"):
        ids = rpc.call(model, "search", [], limit=1, order="id")
        if ids:
            first[model] = ids[0]
    if "library.suggestion" in first:
        pdf_page_one(
            rpc, "library_crm.report_suggestion", first["library.suggestion"], "report_suggestion"
        )
    if "library.department" in first:
        pdf_page_one(
            rpc,
            "library_crm.report_department_scorecard",
            first["library.department"],
            "report_department_scorecard",
        )
    if "library.liaison.review" in first:
        pdf_page_one(
            rpc,
            "library_crm.report_liaison_review",
            first["library.liaison.review"],
            "report_liaison_review",
        )
    # The period reports print from their wizard, with its default period.
    for model, report, name in (
        (
            "library.segment.summary",
            "library_crm.report_segment_summary",
            "report_segment_summary",
        ),
        ("library.satisfaction.report", "library_crm.report_satisfaction", "report_satisfaction"),
        (
            "library.suggestion.register",
            "library_crm.report_suggestion_register",
            "report_suggestion_register",
        ),
        (
            "library.annual.statistics.report",
            "library_crm.report_annual_statistics",
            "report_annual_statistics",
        ),
    ):
        wizard = rpc.call(model, "create", {})
        pdf_page_one(rpc, report, wizard, name)


def shoot(page, url, name, wait_for, full_page=False):
    page.goto(url)
    page.wait_for_selector(wait_for, timeout=30_000)
    page.wait_for_timeout(1500)  # fonts, charts and late RPCs
    page.screenshot(path=OUT / f"{name}.png", full_page=full_page)
    print(OUT / f"{name}.png")


def login(page, url, db, user, password):
    page.goto(f"{url}/web/login?db={db}")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda address: "/web/login" not in address, timeout=30_000)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="library_crm")
    parser.add_argument("--password", default="admin", help="the demo administrator's")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    admin = Rpc(args.url, args.db, "admin", args.password)
    admin.call("res.users", "write", [2], {"lang": "zh_CN"})
    portal_readers = [["is_reader", "=", True], ["user_ids.share", "=", True]]
    # A reader with an annual reading report, for its page.
    reader_ids = admin.call(
        "res.partner",
        "search",
        [*portal_readers, ["library_reading_report_ids", "!=", False]],
        limit=1,
    ) or admin.call("res.partner", "search", portal_readers, limit=1)
    portal_login = portal_password = None
    if reader_ids:
        [user] = admin.call(
            "res.users",
            "search_read",
            [["partner_id", "=", reader_ids[0]]],
            ["login"],
            context={"active_test": False},
        )
        portal_login, portal_password = user["login"], secrets.token_urlsafe(12)
        admin.call("res.users", "write", [user["id"]], {"password": portal_password})
    [reader] = admin.call(
        "res.partner",
        "search",
        [["is_reader", "=", True], ["reader_segment", "=", "long_term"]],
        limit=1,
    ) or admin.call("res.partner", "search", [["is_reader", "=", True]], limit=1)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        login(page, args.url, args.db, "admin", args.password)
        shoot(
            page,
            f"{args.url}/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action",
            "dashboard",
            ".o-scorecard",
        )
        page.click(".o_search_panel_category_value[data-name='读者关系']")
        page.wait_for_timeout(3000)
        page.screenshot(path=OUT / "dashboard.png")
        shoot(
            page,
            f"{args.url}/odoo/action-library_crm.action_library_reader/{reader}",
            "reader_form",
            ".o_form_view .o_field_widget[name=reader_card_number]",
        )
        shoot(
            page,
            f"{args.url}/odoo/action-library_crm.action_library_reader_analysis",
            "reader_analysis",
            ".o_pivot",
        )
        shoot(
            page,
            f"{args.url}/odoo/action-library_crm.action_library_suggestion",
            "suggestions",
            ".o_kanban_renderer",
        )
        shoot(
            page,
            f"{args.url}/odoo/action-library_crm.action_library_reading_report",
            "reading_reports",
            ".o_list_renderer",
        )
        shoot(
            page,
            f"{args.url}/odoo/action-library_crm.action_library_import_source/new",
            "import_source_form",
            ".o_form_view",
        )
        if portal_login:
            portal = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            login(portal, args.url, args.db, portal_login, portal_password)
            shoot(portal, f"{args.url}/my", "portal_home_desktop", ".o_portal_my_home")
            shoot(
                portal,
                f"{args.url}/my/reading-report",
                "portal_reading_report",
                "main",
                full_page=True,
            )
            phone = browser.new_page(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
            )
            login(phone, args.url, args.db, portal_login, portal_password)
            shoot(phone, f"{args.url}/my", "portal_home_phone", ".o_portal_my_home")
        browser.close()
    pdfs(admin)


if __name__ == "__main__":
    main()
