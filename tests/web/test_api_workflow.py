"""/api/v1 for routes, steps, decisions, Wiedervorlagen and the desk (issue 16)."""

from __future__ import annotations

import pytest

from eakte.models.api import Scope
from eakte.services import accounts, api_tokens, cases, documents


@pytest.fixture
def headers(world):
    def make(username, scopes=frozenset(Scope)):
        with world.session() as s:
            user = accounts.find_user(s, world.tenant, username)
            _, plain = api_tokens.create_token(s, user, "Skript", set(scopes))
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def routed_doc(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe API")
        process = cases.add_process(s, world.clerk, case.id, "Antrag")
    doc = world.inbox_document("Bescheid API")
    with world.session() as s:
        documents.file_document(s, world.clerk, doc.id, process.id)
    return case, doc


def test_route_through_the_api(client, headers, routed_doc):
    """operation: startRoute, operation: getRoute, operation: decideStep,
    operation: recallRoute, operation: getDesk"""
    _case, doc = routed_doc
    author, cosigner = headers("sachb"), headers("hund")
    body = {
        "document": str(doc.uuid),
        "steps": [
            {"group": 1, "instruction": "mitzeichnung", "user": "hund", "deadline": "2027-01-05"},
            {"group": 1, "instruction": "kenntnis", "unit": "60"},
            {"group": 2, "instruction": "schlusszeichnung", "user": "registratur"},
        ],
    }
    read_only = headers("sachb", {Scope.read})
    assert client.post("/api/v1/routes", json=body, headers=read_only).status_code == 403
    assert client.post("/api/v1/routes", json={"steps": "x"}, headers=author).status_code == 400
    started = client.post("/api/v1/routes", json=body, headers=author)
    assert started.status_code == 201, started.get_json()
    route = started.get_json()
    assert [s["status"] for s in route["steps"]] == ["current", "current", "future"]
    desk = client.get("/api/v1/desk?order=deadline", headers=cosigner).get_json()
    assert [r["route"] for r in desk["routed"]] == [route["uuid"]]
    assert desk["counts"]["routed"] == 1
    step = route["steps"][0]["uuid"]
    wrong = client.post(
        f"/api/v1/steps/{step}/decision", json={"decision": "nonsense"}, headers=cosigner
    )
    assert wrong.status_code == 400
    decided = client.post(
        f"/api/v1/steps/{step}/decision",
        json={"decision": "mitgezeichnet", "comment": "ok"},
        headers=cosigner,
    )
    assert decided.status_code == 200
    assert decided.get_json()["steps"][0]["decision"] == "mitgezeichnet"
    again = client.post(
        f"/api/v1/steps/{step}/decision", json={"decision": "mitgezeichnet"}, headers=cosigner
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "step_not_current"
    shown = client.get(f"/api/v1/routes/{route['uuid']}", headers=author)
    assert shown.status_code == 200 and shown.get_json()["status"] == "active"
    recalled = client.post(f"/api/v1/routes/{route['uuid']}/recall", json={}, headers=author)
    assert recalled.status_code == 200 and recalled.get_json()["status"] == "recalled"


def test_wiedervorlagen_through_the_api(client, headers, routed_doc):
    """operation: addWiedervorlage, operation: listWiedervorlagen,
    operation: finishWiedervorlage"""
    case, _doc = routed_doc
    clerk = headers("sachb")
    added = client.post(
        "/api/v1/wiedervorlagen",
        json={"case": str(case.uuid), "due": "2099-05-01", "note": "Nachfrage"},
        headers=clerk,
    )
    assert added.status_code == 201, added.get_json()
    wv = added.get_json()
    listed = client.get("/api/v1/wiedervorlagen", headers=clerk).get_json()
    assert [w["uuid"] for w in listed] == [wv["uuid"]]
    other = headers("bau")
    assert client.post(f"/api/v1/wiedervorlagen/{wv['uuid']}/done", headers=other).status_code in (
        403,
        404,
    )
    done = client.post(f"/api/v1/wiedervorlagen/{wv['uuid']}/done", headers=clerk)
    assert done.status_code == 200 and done.get_json()["done"] is True
    assert client.get("/api/v1/wiedervorlagen", headers=clerk).get_json() == []
