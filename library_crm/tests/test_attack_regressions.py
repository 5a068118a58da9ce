# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Defects found by attacking the merged change of issue #13 as a hostile
logged-in user (JSON-RPC with any ids and context, malformed imports). Each
test failed before its fix."""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests.common import JsonRpcException

from .common import LibraryCrmCase

HOSTILE_CONTEXT = {
    "library_suggestion_step": True,
    "library_consent_channel": "portal",
    "active_test": False,
    "bypass": True,
    "tracking_disable": True,
}


class TestActivityNotAggregatedByOutsiders(LibraryCrmCase, HttpCase):
    """Grouping, aggregating or ordering readers by a related activity field
    (reader_segment, loyalty_score...) went through Odoo's SQL of the
    related field, as superuser, without the field's groups=: any internal
    or portal user counted readers per segment and averaged their loyalty."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.cr.execute(
            "UPDATE library_reader_metrics SET reader_segment = 'lapsed', loyalty_score = 42 "
            "WHERE partner_id = %s",
            [cls.reader.id],
        )
        cls.env["library.reader.metrics"].invalidate_model()
        cls.user_portal.partner_id.write({"is_reader": True, "reader_category": "public"})

    def _rpc(self, user, method, args, kwargs=None):
        self.authenticate(user.login, user.login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/res.partner/{method}",
            {
                "model": "res.partner",
                "method": method,
                "args": args,
                "kwargs": dict(kwargs or {}, context=HOSTILE_CONTEXT),
            },
        )

    def _calls(self, partner):
        domain = [("id", "=", partner.id)]
        return [
            ("formatted_read_group", [domain, ["reader_segment"]], {"aggregates": ["__count"]}),
            (
                "formatted_read_group",
                [domain, ["reader_category"]],
                {"aggregates": ["loyalty_score:avg"]},
            ),
            ("read_group", [domain, ["loyalty_score:avg"], ["reader_category"]], {}),
            ("search_read", [domain], {"fields": ["name"], "order": "loyalty_score desc"}),
        ]

    def test_refused_over_json_rpc(self):
        for user, partner in (
            (self.user_internal, self.reader),
            (self.user_portal, self.user_portal.partner_id),
        ):
            for method, args, kwargs in self._calls(partner):
                with self.subTest(user=user.login, method=method, args=args, kwargs=kwargs):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._rpc(user, method, args, kwargs)
                    self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")

    def test_refused_to_outsiders_allowed_to_librarians(self):
        Partner = self.env["res.partner"]
        domain = [("id", "=", self.reader.id)]
        for user in (self.user_internal, self.user_portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                Partner.with_user(user).formatted_read_group(
                    domain, ["reader_segment"], ["loyalty_score:sum"]
                )
        groups = Partner.with_user(self.user_librarian).formatted_read_group(
            domain, ["reader_segment"], ["loyalty_score:sum"]
        )
        self.assertEqual(
            [(g["reader_segment"], g["loyalty_score:sum"]) for g in groups], [("lapsed", 42)]
        )
        self.assertEqual(
            Partner.with_user(self.user_librarian).search(domain, order="loyalty_score desc"),
            self.reader,
        )
