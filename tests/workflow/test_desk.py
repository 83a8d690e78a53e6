"""R30: deputies (i. V.), Wiedervorlagen on their day, and the desk — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from eakte.errors import BadInput, PermissionDenied
from eakte.models import AuditEvent, Document
from eakte.models.workflow import RouteStep, Wiedervorlage
from eakte.permissions import Action, can
from eakte.services.assignment import assign_document
from eakte.workflow import deputies, routes, wiedervorlagen
from eakte.workflow.desk import counts
from eakte.workflow.desk import desk as desk_of
from tests.workflow.conftest import step


def test_r30_a_deputy_acts_for_the_absent_person_and_both_are_recorded(world, desk):
    _case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        route = routes.start_route(
            s, w.clerk, document=doc.id, steps=[step(1, "mitzeichnung", w.clerk_sub)]
        )
        rid = route.id
        step_id = s.scalar(select(RouteStep.id).where(RouteStep.route_id == rid))
        # the Bauamt clerk stands in for "hund" from 2 to 12 March
        deputies.add(
            s, w.clerk_sub, deputy="bau", starts_on=date(2027, 3, 2), ends_on=date(2027, 3, 12)
        )
    with w.session() as s:  # 1 March: not yet
        assert not can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
        with pytest.raises(PermissionDenied):
            routes.decide(s, w.clerk_bau, step_id, "mitgezeichnet")
        with pytest.raises(PermissionDenied):
            desk_of(s, w.clerk_bau, for_user="hund")
    desk.advance(1)
    with w.session() as s:
        assert can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
        theirs = desk_of(s, w.clerk_bau, for_user="hund")
        assert [row.step_id for row in theirs.routed] == [step_id]
        mine = desk_of(s, w.clerk_bau)
        assert mine.routed == [] and [d.username for d in mine.standing_in_for] == ["hund"]
        done = routes.decide(s, w.clerk_bau, step_id, "mitgezeichnet", "i. V.")
        assert done.decided_by_id == w.clerk_bau.id and done.on_behalf_of_id == w.clerk_sub.id
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "route_decide")).one()
        assert event.username == "bau" and json.loads(event.details)["i_v"] == "hund"
    desk.advance(20)  # after the period: nothing more
    with w.session() as s:
        assert not can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))


def test_r30_a_deputyship_for_one_unit_covers_that_unit_only(world, desk):
    _case, _process, doc = desk.filed()  # a case of unit 32
    w = world
    with w.session() as s:
        routes.start_route(
            s, w.clerk, document=doc.id, steps=[step(1, "mitzeichnung", w.clerk_sub)]
        )
        deputies.add(s, w.clerk_sub, deputy="bau", starts_on=desk.today(), org_unit="60")
        assert not can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
        with pytest.raises(PermissionDenied):  # only the person or an admin arranges it
            deputies.add(s, w.clerk_bau, deputy="sachb", principal="hund", starts_on=desk.today())
        with pytest.raises(BadInput):
            deputies.add(s, w.clerk_sub, deputy="hund", starts_on=desk.today())
        deputy = deputies.add(s, w.admin, deputy="bau", principal="hund", starts_on=desk.today())
        assert can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
        deputies.end(s, w.clerk_sub, deputy.id)
        assert not can(s, w.clerk_bau, Action.view, s.get(Document, doc.id))
        assert len(deputies.list_for(s, w.clerk_sub)) == 2
        assert len(deputies.list_for(s, w.clerk_sub, current_only=True)) == 1


def test_r30_a_wiedervorlage_appears_on_its_day(world, desk):
    case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        wv = wiedervorlagen.add(
            s, w.clerk, document=doc.id, due=date(2027, 3, 4), note="Antwort da?"
        )
        wv_id = wv.id
        with pytest.raises(BadInput):  # not in the past
            wiedervorlagen.add(s, w.clerk, case=case.id, due=date(2027, 2, 1))
        assert desk_of(s, w.clerk).wiedervorlagen == []
        assert counts(s, w.clerk)["wiedervorlagen"] == 0
    desk.advance(3)
    with w.session() as s:
        (row,) = desk_of(s, w.clerk).wiedervorlagen
        assert row.id == wv_id and not row.overdue and row.file_reference == case.file_reference
        assert counts(s, w.clerk)["wiedervorlagen"] == 1
    desk.advance(1)
    with w.session() as s:
        assert desk_of(s, w.clerk).wiedervorlagen[0].overdue
        with pytest.raises(PermissionDenied):  # someone else's, and no deputy
            wiedervorlagen.done(s, w.clerk_bau, wv_id)
        wiedervorlagen.done(s, w.clerk, wv_id)
        assert s.get(Wiedervorlage, wv_id).done_at is not None
        assert desk_of(s, w.clerk).wiedervorlagen == []


def test_desk_gathers_routed_assigned_and_my_routes_sorted_by_deadline(world, desk):
    w = world
    _c1, _p1, doc1 = desk.filed("Eins")
    _c2, _p2, doc2 = desk.filed("Zwei")
    inbox = w.inbox_document("Neuer Antrag")
    with w.session() as s:
        assign_document(s, w.clerk, inbox.id, "sachb")
        routes.start_route(
            s,
            w.clerk,
            document=doc1.id,
            title="spät",
            steps=[step(1, "mitzeichnung", w.clerk_sub, deadline=date(2027, 3, 20))],
        )
        routes.start_route(
            s,
            w.clerk,
            document=doc2.id,
            title="früh",
            steps=[step(1, "mitzeichnung", w.clerk_sub, deadline=date(2027, 2, 20))],
        )
        routes.start_route(
            s,
            w.clerk,
            document=doc2.id,
            title="ohne Frist",
            steps=[step(1, "kenntnis", None, unit=w.clerk_sub.org_unit_id)],
        )
    with w.session() as s:
        theirs = desk_of(s, w.clerk_sub)
        assert [r.title for r in theirs.routed] == ["früh", "spät", "ohne Frist"]
        assert [r.overdue for r in theirs.routed] == [True, False, False]
        assert [r.title for r in desk_of(s, w.clerk_sub, order="-deadline").routed] == [
            "spät",
            "früh",
            "ohne Frist",
        ]
        assert [r.title for r in desk_of(s, w.clerk_sub, due_by=date(2027, 3, 1)).routed] == [
            "früh"
        ]
        mine = desk_of(s, w.clerk)
        assert [d.title for d in mine.assigned] == ["Neuer Antrag"]
        assert {r.title: r.where for r in mine.my_routes}["früh"] == "hund"
        assert counts(s, w.clerk_sub) == {"routed": 3, "wiedervorlagen": 0}
