"""R29, R31, R12: routes for co-signing (Geschäftsgang) — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from eakte.errors import (
    BadInput,
    LegalHoldActive,
    NotFound,
    OpenWorkBlocksClosure,
    PermissionDenied,
    RouteNotOpen,
    RouteVersionChanged,
    StepNotCurrent,
)
from eakte.models import AuditEvent, Document, FileVersion, VersionKind
from eakte.models.workflow import Route, RouteStep
from eakte.permissions import Action, can
from eakte.services import cases, documents
from eakte.services.documents import version_for
from eakte.services.objects import store_object
from eakte.workflow import routes, wiedervorlagen
from retention import holds
from tests.workflow.conftest import step


def _steps(route_id, session):
    return session.scalars(
        select(RouteStep).where(RouteStep.route_id == route_id).order_by(RouteStep.id)
    ).all()


def _ids(route_id, session):
    return [row.id for row in _steps(route_id, session)]


def _state(session, route_id):
    return [(s.group_no, s.status, s.decision) for s in _steps(route_id, session)]


def test_r29_parallel_cosigners_then_final_signature_freezes_the_version(world, desk):
    _case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s,
            w.clerk,
            document=doc.id,
            steps=[
                step(1, "mitzeichnung", w.clerk_sub, deadline=date(2027, 3, 5)),
                step(1, "mitzeichnung", w.clerk_bau, deadline=date(2027, 3, 5)),
                step(2, "schlusszeichnung", w.officer),
            ],
        )
        rid, route_uuid = route.id, str(route.uuid)
        first, second, final = _ids(rid, s)
        assert route.author_id == w.clerk.id and route.version_id is not None
        assert _state(s, rid) == [(1, "current", ""), (1, "current", ""), (2, "future", "")]
        # the Bauamt co-signer sees the routed document, outside their unit, while current
        assert can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
    with w.session() as s:
        routes.decide(s, w.clerk_sub, first, "mitgezeichnet", "passt")
        assert _state(s, rid)[2] == (2, "future", "")  # the group is not complete yet
        with pytest.raises(PermissionDenied):  # not the addressee
            routes.decide(s, w.clerk_sub, second, "mitgezeichnet")
    with w.session() as s:
        routes.decide(s, w.clerk_bau, second, "mitgezeichnet_mit_aenderungen", "Frist prüfen")
        assert _state(s, rid)[2] == (2, "current", "")
        assert not can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))  # step done
        with pytest.raises(StepNotCurrent):  # done steps never change
            routes.decide(s, w.clerk_bau, second, "nicht_mitgezeichnet")
        with pytest.raises(BadInput):  # a co-sign decision does not answer a final signature
            routes.decide(s, w.officer, final, "mitgezeichnet")
    with w.session() as s:
        routes.decide(s, w.officer, final, "schlussgezeichnet")
        done = s.get(Route, rid)
        version = s.get(FileVersion, done.version_id)
        assert done.status == "completed" and done.finished_at is not None
        assert done.signed_version_id == version.id and done.signed_sha256 == version.sha256
        assert [
            e.action
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_uuid == route_uuid)
                .order_by(AuditEvent.id)
            )
        ] == ["route_start", "route_decide", "route_decide", "route_decide", "route_signed"]


def test_r29_a_later_version_needs_a_new_route(world, desk):
    _case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s, w.clerk, document=doc.id, steps=[step(1, "schlusszeichnung", w.officer)]
        )
        rid = route.id
        (final,) = _ids(rid, s)
    with w.session() as s:  # a second original version arrives (e.g. the edited draft)
        stored = store_object(
            s,
            w.rt.store,
            tenant_id=w.tenant.id,
            key=f"{w.tenant.slug}/test/v2",
            stream=io.BytesIO(b"%PDF-1.4 v2"),
            content_type="application/pdf",
        )
        with s.begin():
            document = s.get(Document, doc.id)
            document.versions.append(version_for(stored, VersionKind.original, "v2.pdf"))
    with w.session() as s, pytest.raises(RouteVersionChanged):
        routes.decide(s, w.officer, final, "schlussgezeichnet")
    with w.session() as s:  # a new route is about the new version
        routes.recall(s, w.clerk, rid, "neue Fassung")
        again = routes.start_route(
            s, w.clerk, document=doc.id, steps=[step(1, "schlusszeichnung", w.officer)]
        )
        (final,) = _ids(again.id, s)
        routes.decide(s, w.officer, final, "schlussgezeichnet")
        signed = s.get(FileVersion, s.get(Route, again.id).signed_version_id)
        assert signed.filename == "v2.pdf"


def test_r29_not_cosigned_returns_to_the_author_who_changes_future_steps(world, desk):
    _case, process, _doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s,
            w.clerk,
            process=process.id,
            title="Genehmigung",
            steps=[
                step(1, "mitzeichnung", w.clerk_sub),
                step(1, "stellungnahme", w.clerk_bau),
                step(2, "kenntnis", w.officer),
            ],
        )
        rid = route.id
        first, second, _third = _ids(rid, s)
        with pytest.raises(PermissionDenied):  # only the author changes the route
            routes.change_future_steps(s, w.clerk_sub, rid, [step(1, "kenntnis", w.admin)])
    with w.session() as s:
        routes.decide(s, w.clerk_sub, first, "nicht_mitgezeichnet", "so nicht")
        back = s.get(Route, rid)
        assert back.status == "returned"
        assert _state(s, rid) == [
            (1, "done", "nicht_mitgezeichnet"),
            (1, "skipped", ""),
            (2, "future", ""),
        ]
        with pytest.raises(StepNotCurrent):
            routes.decide(s, w.clerk_bau, second, "erledigt")
    with w.session() as s:  # revised: the author sends it on, to the co-signer again and on
        routes.change_future_steps(
            s,
            w.clerk,
            rid,
            [step(1, "mitzeichnung", w.clerk_sub), step(2, "schlusszeichnung", w.officer)],
        )
        assert s.get(Route, rid).status == "active"
        assert _state(s, rid) == [
            (1, "done", "nicht_mitgezeichnet"),
            (1, "skipped", ""),
            (2, "current", ""),
            (3, "future", ""),
        ]
        with pytest.raises(BadInput):  # the final signature is the last step, alone
            routes.change_future_steps(
                s,
                w.clerk,
                rid,
                [step(1, "schlusszeichnung", w.officer), step(2, "kenntnis", w.admin)],
            )
    with w.session() as s:
        routes.recall(s, w.clerk, rid, "erledigt sich")
        assert s.get(Route, rid).status == "recalled"
        assert [x[1] for x in _state(s, rid)] == ["done", "skipped", "skipped", "skipped"]
        with pytest.raises(RouteNotOpen):
            routes.recall(s, w.clerk, rid)


def test_r12_a_legal_hold_freezes_routes(world, desk):
    case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s, w.clerk, document=doc.id, steps=[step(1, "mitzeichnung", w.clerk_sub)]
        )
        rid = route.id
        (first,) = _ids(rid, s)
    with w.session() as s:
        hold = holds.place_hold(
            s, w.officer, "case", case.id, reason="Klage", authority="VG Frankfurt"
        )
    with w.session() as s:
        with pytest.raises(LegalHoldActive):
            routes.decide(s, w.clerk_sub, first, "mitgezeichnet")
        with pytest.raises(LegalHoldActive):
            routes.recall(s, w.clerk, rid)
        with pytest.raises(LegalHoldActive):
            routes.start_route(
                s, w.clerk, document=doc.id, steps=[step(1, "kenntnis", w.clerk_sub)]
            )
    with w.session() as s:
        holds.release_hold(s, w.officer, hold.id, reason="Verfahren beendet")
    with w.session() as s:
        routes.decide(s, w.clerk_sub, first, "mitgezeichnet")
        assert s.get(Route, rid).status == "completed"


def test_r31_closing_is_refused_while_routes_or_wiedervorlagen_are_open(world, desk):
    case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s,
            w.clerk,
            document=doc.id,
            title="Bescheid Schmidt",
            steps=[step(1, "mitzeichnung", w.clerk_sub)],
        )
        rid = route.id
        wv = wiedervorlagen.add(
            s, w.clerk, case=case.id, due=date(2027, 4, 1), note="Frist Anhörung"
        )
    with w.session() as s, pytest.raises(OpenWorkBlocksClosure) as refused:
        cases.close_case(s, w.clerk, case.id)
    message = refused.value.user_message
    assert "Bescheid Schmidt" in message and "01.04.2027" in message and "zdA" in message
    assert "hund" in message  # where the route stands
    with w.session() as s:
        assert s.get(type(case), case.id).status == "open"
        routes.recall(s, w.clerk, rid)
    with w.session() as s, pytest.raises(OpenWorkBlocksClosure, match="Wiedervorlage"):
        cases.close_case(s, w.clerk, case.id)
    with w.session() as s:
        wiedervorlagen.done(s, w.clerk, wv.id)
        assert cases.close_case(s, w.clerk, case.id).status == "closed"


def test_r22_an_addressee_sees_the_routed_object_only(world, desk):
    case, process, doc = desk.filed()
    other = world.inbox_document("Anlage")
    w = world
    with w.session() as s:
        documents.file_document(s, w.clerk, other.id, process.id)
        routes.start_route(s, w.clerk, document=doc.id, steps=[step(1, "kenntnis", w.clerk_bau)])
    with w.session() as s:
        assert can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
        assert can(s, w.clerk_bau, Action.download, s.get(Document, doc.id))
        assert not can(s, w.clerk_bau, Action.edit, s.get(Document, doc.id))
        assert not can(s, w.clerk_bau, Action.view, s.get(Document, other.id))
        assert not can(s, w.clerk_bau, Action.view, s.get(type(case), case.id))
        with pytest.raises(NotFound):  # the route is routed to others: it stays hidden
            routes.start_route(
                s, w.clerk_bau, document=other.id, steps=[step(1, "kenntnis", w.clerk)]
            )


def test_r29_audit_details_of_a_decision(world, desk):
    _case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s, w.clerk, document=doc.id, steps=[step(1, "bearbeitung", w.clerk_sub)]
        )
        rid = route.id
        (first,) = _ids(rid, s)
        routes.decide(s, w.clerk_sub, first, "erledigt", "gemacht")
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "route_decide")).one()
        details = json.loads(event.details)
        assert event.username == "hund" and details["decision"] == "erledigt"
        assert "i_v" not in details
