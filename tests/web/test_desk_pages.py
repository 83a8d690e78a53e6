"""The desk (Schreibtisch), the route page and the forms on case and document pages (issue 16)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from eakte.models.workflow import Route, RouteStep, Wiedervorlage
from eakte.services import cases, documents
from tests.fixtures.app import csrf_token


def _filed(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Desk")
        process = cases.add_process(s, world.clerk, case.id, "Antrag")
    doc = world.inbox_document("Bescheid Desk")
    with world.session() as s:
        documents.file_document(s, world.clerk, doc.id, process.id)
    return case, doc


def test_route_from_the_document_page_to_the_desks(world, sign_in):
    _case, doc = _filed(world)
    author = sign_in("sachb")
    page = author.get(f"/dokumente/{doc.uuid}").get_data(as_text=True)
    assert "Laufweg starten" in page or "Start a route" in page
    token = csrf_token(page)
    deadline = (date.today() + timedelta(days=3)).isoformat()
    started = author.post(
        "/laufwege",
        data={
            "csrf_token": token,
            "kind": "document",
            "object": str(doc.uuid),
            "title": "Bescheid <Schmidt>",
            "step-0-group": "1",
            "step-0-who": "hund",
            "step-0-instruction": "mitzeichnung",
            "step-0-deadline": deadline,
            "step-1-group": "2",
            "step-1-who": "registratur",
            "step-1-instruction": "schlusszeichnung",
        },
    )
    assert started.status_code == 302
    cosigner = sign_in("hund")
    desk = cosigner.get("/schreibtisch").get_data(as_text=True)
    assert "Bescheid &lt;Schmidt&gt;" in desk  # escaped
    assert re.search(r"\(1<span class=\"visually-hidden\">", desk)  # the count in the nav
    with world.session() as s:
        route = s.scalars(select(Route)).one()
        step_uuid = s.scalars(select(RouteStep.uuid).where(RouteStep.group_no == 1)).one()
        route_uuid = route.uuid
    route_page = cosigner.get(f"/laufwege/{route_uuid}").get_data(as_text=True)
    assert f"/laufwege/schritte/{step_uuid}/entscheidung" in route_page
    no_csrf = cosigner.post(
        f"/laufwege/schritte/{step_uuid}/entscheidung", data={"decision": "mitgezeichnet"}
    )
    assert no_csrf.status_code == 400
    decided = cosigner.post(
        f"/laufwege/schritte/{step_uuid}/entscheidung",
        data={"csrf_token": csrf_token(route_page), "decision": "mitgezeichnet", "comment": "ok"},
    )
    assert decided.status_code == 302
    assert "Nothing is routed to you" in cosigner.get("/schreibtisch").get_data(
        as_text=True
    ) or "Ihnen ist nichts zugeleitet" in cosigner.get("/schreibtisch").get_data(as_text=True)
    mine = author.get("/schreibtisch?sortierung=-deadline").get_data(as_text=True)
    assert "registratur" in mine  # where the route stands now
    assert author.get("/schreibtisch?bis=kein-datum").status_code == 400
    assert cosigner.get("/schreibtisch?fuer=sachb").status_code == 403


def test_wiedervorlage_from_the_case_page_and_zda_refused(world, sign_in):
    case, _doc = _filed(world)
    clerk = sign_in("sachb")
    page = clerk.get(f"/akten/{case.uuid}").get_data(as_text=True)
    due = date.today().isoformat()
    added = clerk.post(
        "/wiedervorlagen",
        data={
            "csrf_token": csrf_token(page),
            "kind": "case",
            "object": str(case.uuid),
            "due": due,
            "note": "Anhörung",
            "next": f"/akten/{case.uuid}",
        },
    )
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/akten/{case.uuid}")
    assert "Anhörung" in clerk.get("/schreibtisch").get_data(as_text=True)
    closing = clerk.post(f"/akten/{case.uuid}/schliessen", data={"csrf_token": csrf_token(page)})
    text = closing.get_data(as_text=True)
    assert closing.status_code == 409 and "zdA" in text and "Wiedervorlagen" in text
    with world.session() as s:
        wv_uuid = s.scalars(select(Wiedervorlage.uuid)).one()
    done = clerk.post(f"/wiedervorlagen/{wv_uuid}/erledigt", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 302
    with world.session() as s:
        assert s.scalars(select(Wiedervorlage)).one().done_at is not None
    evil = clerk.post(
        "/wiedervorlagen",
        data={
            "csrf_token": csrf_token(page),
            "kind": "case",
            "object": str(case.uuid),
            "due": due,
            "next": "//evil.example/",
        },
    )
    assert evil.headers["Location"] == "/schreibtisch"


def test_aktenvermerk_form_with_the_case_data_filled_in(world, sign_in):
    case, _doc = _filed(world)
    clerk = sign_in("sachb")
    with world.session() as s:
        from eakte.models import Process

        process_uuid = s.scalars(select(Process.uuid).where(Process.case_id == case.id)).one()
    page = clerk.get(f"/vorgaenge/{process_uuid}/vermerk").get_data(as_text=True)
    assert case.file_reference in page and "Gewerbe Desk" in page
    saved = clerk.post(
        f"/vorgaenge/{process_uuid}/vermerk",
        data={"csrf_token": csrf_token(page), "art": "aktenvermerk", "text": "Vermerk: alles gut"},
    )
    assert saved.status_code == 302 and "/dokumente/" in saved.headers["Location"]
    assert clerk.get(f"/vorgaenge/{process_uuid}/vermerk?art=x").status_code == 400
    assert sign_in("bau").get(f"/vorgaenge/{process_uuid}/vermerk").status_code == 404
