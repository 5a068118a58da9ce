# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
from datetime import datetime

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tests.common import JsonRpcException

from ..models import marc_records
from .common import LibraryCrmCommon
from .marc_samples import as_marc, as_marcxml, cnmarc_record, marc21_record
from .oai_server import OaiTestServer, Repository

NOW = datetime(2026, 12, 1, 9, 0)


class MarcCase(LibraryCrmCommon, TransactionCase):
    _library_tracking_disable = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Title = cls.env["library.new.title"].with_user(cls.user_manager)

    def _titles(self, isbns):
        return (
            self.env["library.new.title"]
            .with_context(active_test=False)
            .search([("isbn", "in", isbns), ("company_id", "=", self.company.id)])
        )


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestMarcImport(MarcCase):
    def _file(self):
        return (
            as_marc(
                marc21_record(
                    "m1",
                    "Deep learning",
                    isbn="0-262-03561-8",
                    authors=("Goodfellow, Ian", "Bengio, Yoshua"),
                    clc="TP181",
                    link="https://opac.example.com/m1",
                )
            )
            + as_marc(cnmarc_record("c1", "机器学习", isbn="978-7-302-42328-7"))
            + as_marc(
                cnmarc_record(
                    "c2",
                    "统计学习方法",
                    isbn="7302275955",
                    authors=("李航", "张三"),
                    publisher="清华大学出版社",
                    year="2012",
                    clc="O212.1",
                    subjects=("统计学",),
                ),
                "gbk",
            )
        )

    def test_marc21_cnmarc_and_gbk_records(self):
        result = self.Title._import_marc_records(self._file())
        self.assertEqual((result["read"], result["created"], result["rejected"]), (3, 3, []))
        deep, ml, stat = (
            self._titles([isbn]) for isbn in ("9780262035613", "9787302423287", "9787302275954")
        )
        self.assertEqual(
            (deep.name, deep.author, deep.publisher, deep.publication_year),
            ("Deep learning", "Goodfellow, Ian; Bengio, Yoshua", "MIT Press", 2016),
        )
        self.assertEqual(
            (deep.clc_code, deep.ddc_code, deep.lcc_code, deep.subjects),
            ("TP181", "006.31", "Q325.5 .G66 2016", "Machine learning"),
        )
        self.assertEqual(
            (deep.catalogue_url, deep.source_record_id),
            ("https://opac.example.com/m1", "m1"),
        )
        self.assertEqual(
            (ml.name, ml.clc_code, ml.subjects), ("机器学习", "TP181", "机器学习 -- 研究")
        )
        # The GBK record, ISBN-10 in 010, 701 and 702 authors.
        self.assertEqual(
            (stat.name, stat.author, stat.publisher, stat.publication_year, stat.clc_code),
            ("统计学习方法", "李航; 张三", "清华大学出版社", 2012, "O212.1"),
        )
        self.assertEqual(stat.arrival_date, NOW.date())

    def test_rerun_changes_nothing_and_a_change_updates(self):
        first = self.Title._import_marc_records(self._file())
        titles = self._titles(["9780262035613", "9787302423287", "9787302275954"])
        stamps = titles.mapped("write_date")
        rerun = self.Title._import_marc_records(self._file())
        self.assertEqual(
            (rerun["created"], rerun["updated"], rerun["unchanged"]), (0, 0, first["created"])
        )
        self.assertEqual(titles.mapped("write_date"), stamps)
        changed = as_marc(cnmarc_record("c1", "机器学习（第2版）", isbn="9787302423287"))
        result = self.Title._import_marc_records(changed)
        self.assertEqual((result["created"], result["updated"]), (0, 1))
        self.assertEqual(self._titles(["9787302423287"]).name, "机器学习（第2版）")

    def test_marcxml_in_gbk(self):
        data = as_marcxml(
            [
                cnmarc_record("x1", "数据挖掘导论", isbn="9787115376169"),
                marc21_record("x2", "Pattern recognition", isbn="9780387310732"),
            ],
            "gbk",
        )
        self.assertIn(b'encoding="gbk"', data[:60])
        result = self.Title._import_marc_records(data, fmt="marcxml")
        self.assertEqual((result["created"], result["rejected"]), (2, []))
        self.assertEqual(self._titles(["9787115376169"]).name, "数据挖掘导论")

    def test_bad_records_are_rejected_and_good_ones_kept(self):
        good = as_marc(marc21_record("g1", "Good one", isbn="9780262035613"))
        bad_text = bytearray(as_marc(cnmarc_record("b1", "坏编码", isbn="9787302423287")))
        start = bad_text.index("坏".encode())
        bad_text[start : start + 3] = b"\xff\xfe\xfd"
        wrong_length = b"00999" + as_marc(marc21_record("b2", "Wrong length"))[5:]
        bad_isbn = as_marc(marc21_record("b3", "Bad ISBN", isbn="9780262035614"))
        no_title = as_marc(cnmarc_record("b4", "", isbn="9787115376169"))
        good2 = as_marc(cnmarc_record("g2", "好书", isbn="9787599900003"))
        truncated = as_marc(marc21_record("b5", "Cut off", isbn="9780387310732"))[:-30]
        data = good + bytes(bad_text) + wrong_length + bad_isbn + no_title + good2 + truncated
        result = self.Title._import_marc_records(data)
        self.assertEqual((result["read"], result["created"]), (7, 2))
        reasons = dict(result["rejected"])
        self.assertEqual(sorted(reasons), [2, 3, 4, 5, 7])
        self.assertIn("neither UTF-8 nor GBK", reasons[2])
        self.assertIn("record length in the leader (999)", reasons[3])
        self.assertIn("ISBN 9780262035614 is not valid", reasons[4])
        self.assertIn("no title", reasons[5])
        self.assertIn("truncated", reasons[7])
        self.assertEqual(len(self._titles(["9780262035613", "9787599900003"])), 2)
        self.assertFalse(self._titles(["9787302423287", "9780387310732"]))
        rerun = self.Title._import_marc_records(data)
        self.assertEqual((rerun["created"], len(rerun["rejected"])), (0, 5))

    def test_same_title_without_isbn_is_one_title(self):
        record = marc21_record("n1", "Untitled notes", isbn=None, year="2020")
        self.Title._import_marc_records(as_marc(record) + as_marc(record))
        titles = self.env["library.new.title"].search([("name", "=", "Untitled notes")])
        self.assertEqual(len(titles), 1)
        self.assertEqual(titles.publication_year, 2020)

    def test_audience_from_the_title_mappings(self):
        self.env["library.title.mapping"].create(
            {"clc_prefix": "tp18", "major_ids": [(6, 0, self.major_se.ids)]}
        )
        self.Title._import_marc_records(self._file())
        self.assertEqual(self._titles(["9787302423287"]).major_ids, self.major_se)
        self.assertFalse(self._titles(["9787302275954"]).major_ids, "O212.1 is not TP18")

    def test_isbn_check_agrees_with_python_stdnum(self):
        numbers = [
            "0-262-03561-8",
            "7-5999-0008-X",
            "978-7-302-42328-7",
            "9790000000001",
            "7302275955 (平装)",
            "0-262-03561-9",
            "9787302423288",
            "9771234567003",
            "12345678901",
        ]
        for number in numbers:
            with self.subTest(number=number):
                try:
                    expected = marc_records.normalise_isbn_stdnum(number)
                except ValueError:
                    expected = ValueError
                try:
                    ours = marc_records.normalise_isbn(number)
                except ValueError:
                    ours = ValueError
                self.assertEqual(ours, expected)

    def test_orm_isbn_is_normalised(self):
        title = self.env["library.new.title"].create({"name": "Typed", "isbn": "7-5999-0008-x"})
        self.assertEqual(title.isbn, "9787599900089")
        result = self.Title._import_marc_records(
            as_marc(cnmarc_record("t1", "Typed again", isbn="978-7-5999-0008-9"))
        )
        self.assertEqual((result["created"], result["updated"]), (0, 1))
        self.assertEqual(title.name, "Typed again")

    def test_wizard_shows_counts_and_rejected_file(self):
        data = as_marc(marc21_record("w1", "Wizard", isbn="9780262035613")) + b"00999xx\x1d"
        wizard = (
            self.env["library.marc.import"]
            .with_user(self.user_manager)
            .create({"file": base64.b64encode(data), "filename": "new.mrc"})
        )
        wizard.action_import()
        self.assertEqual(
            (wizard.created_count, wizard.rejected_count, wizard.rejected_filename),
            (1, 1, "new-rejected.csv"),
        )
        rows = base64.b64decode(wizard.rejected_file).decode("utf-8-sig").splitlines()
        self.assertTrue(rows[1].startswith("2,"), rows)
        self.assertEqual(wizard.error_ids.record_number, 2)

    def test_wizard_detects_marcxml(self):
        data = b"\xef\xbb\xbf" + as_marcxml([cnmarc_record("w2", "编目", isbn="9787599900058")])
        wizard = (
            self.env["library.marc.import"]
            .with_user(self.user_manager)
            .create({"file": base64.b64encode(data), "filename": "new.xml"})
        )
        wizard.action_import()
        self.assertEqual((wizard.created_count, wizard.rejected_count), (1, 0))
        self.assertEqual(self._titles(["9787599900058"]).name, "编目")


@tagged("post_install", "-at_install")
class TestMarcImportRights(MarcCase):
    def test_only_managers_import(self):
        data = as_marc(marc21_record("r1", "Rights", isbn="9780262035613"))
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            with self.subTest(user=user.login):
                Title = self.env["library.new.title"].with_user(user)
                with self.assertRaises(AccessError):
                    Title._import_marc_records(data)
                with self.assertRaises(AccessError):
                    Title._harvest_oai("http://127.0.0.1:1/oai")
                with self.assertRaises(AccessError):
                    self.env["library.marc.import"].with_user(user).create(
                        {"file": base64.b64encode(data)}
                    )
        self.assertFalse(self._titles(["9780262035613"]))


@tagged("post_install", "-at_install")
class TestMarcImportOverJsonRpc(MarcCase, HttpCase):
    def _call(self, user, model, method, args):
        self.authenticate_as(user)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": {"context": {}}},
        )

    def test_refused_over_json_rpc(self):
        data = base64.b64encode(
            as_marc(marc21_record("j1", "Over RPC", isbn="9780262035613"))
        ).decode()
        manager_wizard = (
            self.env["library.marc.import"].with_user(self.user_manager).create({"file": data})
        )
        for user in (self.user_portal, self.user_internal, self.user_librarian):
            for model, method, args in (
                ("library.new.title", "_import_marc_records", [data]),
                ("library.new.title", "_harvest_oai", ["http://127.0.0.1:1/oai"]),
                ("library.marc.import", "create", [{"file": data}]),
                ("library.marc.import", "action_import", [manager_wizard.ids]),
            ):
                with self.subTest(user=user.login, method=method):
                    with self.assertRaises(JsonRpcException):
                        self._call(user, model, method, args)
        self.assertFalse(self._titles(["9780262035613"]))
        self.assertEqual(manager_wizard.state, "upload")

    def test_the_manager_imports_over_json_rpc(self):
        data = base64.b64encode(
            as_marc(marc21_record("j2", "Over RPC", isbn="9780262035613"))
        ).decode()
        wizard_id = self._call(
            self.user_manager, "library.marc.import", "create", [{"file": data}]
        )
        self._call(self.user_manager, "library.marc.import", "action_import", [[wizard_id]])
        self.assertEqual(self._titles(["9780262035613"]).name, "Over RPC")


def _dc(number, title, isbn=None, stamp=None, deleted=False):
    dc = {"title": [title], "creator": [f"作者{number}"], "date": ["2021"]}
    dc["publisher"] = ["人民邮电出版社"]
    dc["subject"] = ["计算机"]
    dc["identifier"] = [f"https://opac.example.com/{number}"]
    if isbn:
        dc["identifier"].append(f"ISBN {isbn}")
    return {
        "identifier": f"oai:opac.example.com:{number}",
        "datestamp": stamp or datetime(2026, 11, 1 + number, 8, 0),
        "deleted": deleted,
        "dc": dc,
    }


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestOaiHarvest(MarcCase):
    def setUp(self):
        super().setUp()
        isbns = [
            "9787599900003",
            "9787599900010",
            "9787599900027",
            "9787599900034",
            "7302275955",
            "9787302423287",
            "9787115376169",
            None,
        ]
        self.repository = Repository([_dc(n, f"新书{n}", isbn) for n, isbn in enumerate(isbns, 1)])
        self.server = OaiTestServer(self.repository, batch_size=3).start()
        self.addCleanup(self.server.stop)

    def _harvest(self, **kw):
        return self.Title._harvest_oai(self.server.base_url, **kw)

    def _count(self):
        return (
            self.env["library.new.title"]
            .with_context(active_test=False)
            .search_count([("oai_identifier", "like", "oai:opac.example.com:")])
        )

    def test_harvest_follows_resumption_tokens(self):
        result = self._harvest()
        self.assertEqual(self.server.requests, 3, "8 records by pages of 3")
        self.assertEqual((result["read"], result["created"], result["rejected"]), (8, 8, []))
        self.assertTrue(result["complete"])
        self.assertEqual(result["last_datestamp"], "2026-11-09T08:00:00Z")
        title = self._titles(["9787302275954"])
        self.assertEqual(
            (title.name, title.author, title.publication_year, title.oai_identifier),
            ("新书5", "作者5", 2021, "oai:opac.example.com:5"),
        )
        self.assertEqual(title.oai_datestamp, datetime(2026, 11, 6, 8, 0))
        self.assertEqual(title.catalogue_url, "https://opac.example.com/5")
        no_isbn = self.env["library.new.title"].search(
            [("oai_identifier", "=", "oai:opac.example.com:8")]
        )
        self.assertEqual(no_isbn.name, "新书8")

    def test_incremental_from_the_last_datestamp(self):
        last = self._harvest()["last_datestamp"]
        self.repository.records[1]["dc"]["title"] = ["新书2（修订版）"]
        self.repository.records[1]["datestamp"] = datetime(2026, 11, 20)
        self.repository.records.append(_dc(20, "新书20", "9787040195835"))
        result = self._harvest(from_datestamp=last)
        # The record at the last datestamp comes again, unchanged.
        self.assertEqual(
            (result["read"], result["created"], result["updated"], result["unchanged"]),
            (3, 1, 1, 1),
        )
        self.assertEqual(result["last_datestamp"], "2026-11-21T08:00:00Z")
        self.assertEqual(self._titles(["9787599900010"]).name, "新书2（修订版）")
        self.assertEqual(self._count(), 9)

    def test_deleted_record_archives_the_title(self):
        self._harvest()
        self.repository.records[2].update(deleted=True, datestamp=datetime(2026, 11, 25))
        result = self._harvest(from_datestamp="2026-11-25T00:00:00Z")
        self.assertEqual((result["read"], result["archived"]), (1, 1))
        title = self._titles(["9787599900027"])
        self.assertEqual((title.active, title.source_deleted), (False, True))
        self.assertEqual(self._harvest(from_datestamp="2026-11-25T00:00:00Z")["archived"], 0)
        # Back in the catalogue: the title comes back.
        self.repository.records[2].update(deleted=False, datestamp=datetime(2026, 11, 26))
        self._harvest(from_datestamp="2026-11-26T00:00:00Z")
        self.assertEqual((title.active, title.source_deleted), (True, False))

    def test_same_title_from_marc_and_oai_is_one_title(self):
        self.Title._import_marc_records(
            as_marc(cnmarc_record("c5", "统计学习方法", isbn="7-302-27595-5", clc="O212.1"))
        )
        result = self._harvest()
        self.assertEqual((result["created"], result["updated"]), (7, 1))
        title = self._titles(["9787302275954"])
        self.assertEqual(len(title), 1)
        self.assertEqual(
            (title.oai_identifier, title.clc_code, title.source_record_id),
            ("oai:opac.example.com:5", "O212.1", "c5"),
        )

    def test_marc21_metadata(self):
        self.repository.records = [
            {
                "identifier": "oai:opac.example.com:m1",
                "datestamp": datetime(2026, 11, 3),
                "marcxml": etree.tostring(
                    etree.fromstring(
                        as_marcxml([cnmarc_record("m1", "图书馆学概论", isbn="9787599900041")])
                    )[0]
                ),
            }
        ]
        result = self._harvest(metadata_prefix="marc21")
        self.assertEqual((result["created"], result["rejected"]), (1, []))
        title = self._titles(["9787599900041"])
        self.assertEqual((title.name, title.clc_code), ("图书馆学概论", "TP181"))

    def test_error_responses(self):
        result = self._harvest(from_datestamp="yesterday")
        self.assertFalse(result["complete"])
        self.assertIn("badArgument", result["rejected"][0][1])
        self.assertEqual(result["last_datestamp"], "yesterday")
        empty = self._harvest(from_datestamp="2027-06-01T00:00:00Z")
        self.assertEqual((empty["read"], empty["rejected"], empty["complete"]), (0, [], True))
        self.assertEqual(self._count(), 0)

    def test_dropped_connection_keeps_pages_and_rerun_completes(self):
        self.server.drop_at = {2}
        result = self._harvest()
        self.assertFalse(result["complete"])
        self.assertEqual((result["read"], result["created"]), (3, 3))
        self.assertIn("could not be read", result["rejected"][0][1])
        self.assertIsNone(result["last_datestamp"], "not advanced past unread pages")
        self.assertTrue(result["resumption_token"])
        self.assertEqual(self._count(), 3)
        rerun = self._harvest(from_datestamp=result["last_datestamp"])
        self.assertTrue(rerun["complete"])
        self.assertEqual((rerun["created"], rerun["unchanged"]), (5, 3))
        self.assertEqual(self._count(), 8)

    def test_resume_from_the_token(self):
        self.server.drop_at = {3}
        result = self._harvest()
        self.assertEqual(result["created"], 6)
        resumed = self._harvest(resumption_token=result["resumption_token"])
        self.assertEqual((resumed["created"], resumed["complete"]), (2, True))
        self.assertEqual(self._count(), 8)
