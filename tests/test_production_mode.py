# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The server as production runs it: prefork workers and the evented process
(websocket bus, live notifications). The evented process once crashed in a
loop at start (gevent's plugin loader, the old pkg_resources of the build
pin, and zope.interface 8's new distribution name): a librarian got no live
notification at all."""

import json
import time
import uuid

import requests
import websocket


def _session(odoo_server, login, password):
    session = requests.Session()
    response = session.post(
        f"{odoo_server['url']}/web/session/authenticate",
        json={"params": {"db": odoo_server["db"], "login": login, "password": password}},
        timeout=30,
    )
    assert response.json().get("result", {}).get("uid"), response.text
    return session


def test_the_evented_process_serves_the_bus(odoo_server, admin):
    health = requests.get(f"{odoo_server['gevent_url']}/websocket/health", timeout=10)
    assert health.status_code == 200
    session = _session(odoo_server, "admin", "admin")
    channel = admin.execute(
        "discuss.channel", "create", {"name": f"Circulation desk {uuid.uuid4().hex[:6]}"}
    )
    ws_url = odoo_server["gevent_url"].replace("http://", "ws://") + "/websocket"
    connection = websocket.create_connection(
        ws_url,
        cookie=f"session_id={session.cookies['session_id']}",
        origin=odoo_server["url"],
        timeout=20,
    )
    try:
        connection.send(
            json.dumps(
                {
                    "event_name": "subscribe",
                    "data": {"channels": [f"discuss.channel_{channel}"], "last": 0},
                }
            )
        )
        time.sleep(1)  # the subscription is handled before the message arrives
        text = f"New titles are on the shelf {uuid.uuid4().hex}"
        admin.execute("discuss.channel", "message_post", [channel], body=text)
        deadline = time.monotonic() + 20
        received = ""
        while text not in received and time.monotonic() < deadline:
            received += connection.recv()
        assert text in received, "the message reached the websocket"
    finally:
        connection.close()
    log = odoo_server["log"].read_text(errors="replace")
    assert "DistributionNotFound" not in log
    assert "Evented Service (longpolling) running" in log
