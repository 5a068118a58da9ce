# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Acceptance of the Foundation issue through a running server."""

import base64
import uuid

import pytest
from conftest import OdooClient, RpcError


@pytest.fixture(scope="module")
def setup(admin, odoo_server):
    suffix = uuid.uuid4().hex[:6].upper()
    department = admin.execute(
        "library.department", "create", {"name": f"Acceptance {suffix}", "code": f"A{suffix}"}
    )
    major = admin.execute(
        "library.major",
        "create",
        {"name": "Acceptance Major", "code": f"M{suffix}", "department_id": department},
    )
    password = uuid.uuid4().hex
    group = admin.execute(
        "ir.model.data", "check_object_reference", "library_crm", "group_library_librarian"
    )[1]
    admin.execute(
        "res.users",
        "create",
        {
            "name": "RPC Librarian",
            "login": f"rpc_librarian_{suffix}",
            "password": password,
            "group_ids": [(4, group)],
        },
    )
    librarian = OdooClient(odoo_server, f"rpc_librarian_{suffix}", password)
    return {
        "suffix": suffix,
        "department": department,
        "major": major,
        "librarian": librarian,
    }


def test_librarian_creates_and_finds_reader(setup):
    librarian = setup["librarian"]
    card = f" rpc-{setup['suffix']} ".lower()
    reader = librarian.execute(
        "res.partner",
        "create",
        {
            "name": "周杰 RPC",
            "is_reader": True,
            "reader_card_number": card,
            "reader_category": "postgraduate",
            "library_department_id": setup["department"],
            "library_major_id": setup["major"],
        },
    )
    [values] = librarian.execute(
        "res.partner", "read", [reader], ["reader_card_number", "reader_since", "wechat_id"]
    )
    assert values["reader_card_number"] == card.strip().upper()
    assert values["reader_since"]
    found = librarian.execute("res.partner", "name_search", card.strip())
    assert [row[0] for row in found] == [reader]

    with pytest.raises(RpcError) as error:
        librarian.execute(
            "res.partner",
            "create",
            {"name": "Copy", "is_reader": True, "reader_card_number": card.upper()},
        )
    assert "card number" in error.value.message


def test_guards_hold_over_rpc(setup):
    librarian = setup["librarian"]
    with pytest.raises(RpcError) as error:
        librarian.execute("library.department", "create", {"name": "Nope", "code": "NOPE"})
    assert error.value.name == "odoo.exceptions.AccessError"


def test_import_wizard_over_rpc_is_idempotent(setup):
    librarian = setup["librarian"]
    suffix = setup["suffix"]
    content = "\n".join(
        [
            "读者证号,姓名,邮箱,读者类别,院系代码",
            f"I1{suffix},导入一,one@example.edu,本科生,A{suffix}",
            f"I2{suffix},导入二,bad-mail,本科生,A{suffix}",
            f"I3{suffix},导入三,,教师,NOPE",
        ]
    ).encode()

    def run_import():
        wizard = librarian.execute(
            "library.reader.import",
            "create",
            {"file": base64.b64encode(content).decode(), "filename": "readers.csv"},
        )
        librarian.execute("library.reader.import", "action_import", [wizard])
        [result] = librarian.execute(
            "library.reader.import",
            "read",
            [wizard],
            ["created_count", "updated_count", "rejected_count", "rejected_file"],
        )
        return result

    first = run_import()
    assert (first["created_count"], first["rejected_count"]) == (1, 2)
    rejected = base64.b64decode(first["rejected_file"]).decode("utf-8-sig")
    assert f"I2{suffix}" in rejected and f"I3{suffix}" in rejected
    second = run_import()
    assert (second["created_count"], second["updated_count"]) == (0, 0)
    assert librarian.execute("res.partner", "search_count", [("name", "=", "导入一")]) == 1
