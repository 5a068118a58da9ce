# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Campaigns issue, outside the test framework: a 1,000-reader segment
mailing sent through a running server to a local SMTP sink; every reader
receives exactly one message, with their own name and card number."""

import email
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

READERS = 1000


class Sink:
    """Keeps every message the server delivers."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture(scope="module")
def sink():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _body_text(message):
    part = message.get_body(preferencelist=("html", "plain"))
    return part.get_content()


def test_segment_mailing_reaches_every_reader_personalised(admin, sink):
    handler, port = sink
    suffix = uuid.uuid4().hex[:6].upper()
    admin.execute(
        "ir.mail_server",
        "create",
        {
            "name": f"SMTP sink {suffix}",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_encryption": "none",
            "sequence": 1,
        },
    )
    readers = admin.execute(
        "res.partner",
        "create",
        [
            {
                "name": f"Reader {suffix} {n:04d}",
                "is_reader": True,
                "reader_card_number": f"SM{suffix}{n:04d}",
                "email": f"reader.{suffix.lower()}.{n:04d}@example.edu",
                "reader_category": "undergraduate",
            }
            for n in range(READERS)
        ],
    )
    # Usage that makes them growing readers (active for 300 days, more in
    # the last six months than before), then the engine classifies them.
    now = datetime.now(UTC).replace(tzinfo=None)
    admin.execute(
        "library.usage",
        "create",
        [
            {
                "partner_id": reader,
                "kind": "loan",
                "occurred_at": (now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S"),
                "source": f"smtp-{suffix}",
                "external_ref": f"{reader}-{days}",
            }
            for reader in readers
            for days in (300, 30, 20)
        ],
    )
    admin.execute("res.partner", "action_recompute_segment", readers)
    segments = admin.execute("res.partner", "read", readers, ["reader_segment"])
    assert {row["reader_segment"] for row in segments} == {"growing"}
    # One reader said no to campaigns: they must not receive it.
    opted_out = readers[0]
    admin.execute("res.partner", "write", [opted_out], {"consent_news": False})
    mailing = admin.execute(
        "mailing.mailing",
        "create",
        {
            "subject": "Your library this term",
            "body_html": "<p>Dear <t t-out='object.name'/>, card "
            "<t t-out='object.reader_card_number'/>: new study rooms are open.</p>"
            "<p><a href='/unsubscribe_from_list'>No more campaigns</a></p>",
            "mailing_model_id": admin.execute(
                "ir.model", "search", [("model", "=", "res.partner")]
            )[0],
            "mailing_domain": repr(
                [
                    ("reader_segment", "=", "growing"),
                    ("reader_card_number", "=like", f"SM{suffix}%"),
                ]
            ),
            "library_purpose": "news",
            "email_from": "library@example.edu",
        },
    )
    admin.execute("mailing.mailing", "action_send_mail", [mailing])
    admin.execute("mail.mail", "process_email_queue")

    expected = READERS - 1
    deadline = time.monotonic() + 180
    while len(handler.messages) < expected and time.monotonic() < deadline:
        time.sleep(1)
    with handler.lock:
        received = [
            (rcpt, message)
            for rcpt, message in handler.messages
            if message["Subject"] == "Your library this term"
        ]
    assert len(received) == expected

    by_address = {}
    for rcpt, message in received:
        assert len(rcpt) == 1
        by_address.setdefault(rcpt[0], []).append(message)
    assert len(by_address) == expected, "one message per reader"
    assert f"reader.{suffix.lower()}.0000@example.edu" not in by_address, "opted out"
    for n in range(1, READERS):
        address = f"reader.{suffix.lower()}.{n:04d}@example.edu"
        (message,) = by_address[address]
        body = _body_text(message)
        assert f"Reader {suffix} {n:04d}" in body
        assert f"SM{suffix}{n:04d}" in body
        # One click opts the reader out of this purpose: the mail client's
        # button (List-Unsubscribe) and the personal link in the body.
        assert "/unsubscribe_oneclick?" in message["List-Unsubscribe"]
        assert "/confirm_unsubscribe?" in body
        assert "unsubscribe_from_list" not in body
