"""Zuweisung: a document assigned to a person who may work on it, audited, refused otherwise."""

import json

import pytest
from sqlalchemy import select

from eakte.errors import Conflict, NotFound, PermissionDenied
from eakte.models import AuditEvent, Document
from eakte.services import accounts, documents
from eakte.services.assignment import assign_document


def _events(world, doc, action):
    with world.session() as s:
        rows = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_uuid == str(doc.uuid), AuditEvent.action == action
            )
        ).all()
        return [json.loads(row.details) for row in rows]


def test_assign_and_take_back_is_audited(world):
    doc = world.inbox_document("Antrag Schmidt", org_unit_code="32.2")
    with world.session() as s:
        assign_document(s, world.clerk, doc.id, "hund")
    with world.session() as s:
        row = s.get(Document, doc.id)
        assert row.assignee_id == world.clerk_sub.id and row.assigned_at is not None
    [event] = _events(world, doc, "assign")
    assert event["assignee"] == "hund" and event["previous"] is None
    with world.session() as s:
        assign_document(s, world.clerk, doc.id, None)
        assert s.get(Document, doc.id).assignee_id is None
    [event] = _events(world, doc, "unassign")
    assert event["previous"] == "hund"


def test_assignee_must_be_able_to_work_on_it(world):
    doc = world.inbox_document("Antrag Bau", org_unit_code="32.2")
    with world.session() as s, pytest.raises(Conflict, match="may not work"):
        assign_document(s, world.clerk, doc.id, world.clerk_bau.id)  # Bauamt: outside 32
    with world.session() as s:
        accounts.set_user_active(s, world.admin, "hund", False)
    with world.session() as s, pytest.raises(Conflict, match="not an active person"):
        assign_document(s, world.clerk, doc.id, "hund")
    with world.session() as s:
        assert s.get(Document, doc.id).assignee_id is None


def test_only_who_may_edit_assigns(world):
    doc = world.inbox_document("Antrag Hund", org_unit_code="32")
    with world.session() as s, pytest.raises(NotFound):
        assign_document(s, world.clerk_bau, doc.id, "bau")
    with world.session() as s, pytest.raises((PermissionDenied, NotFound)):
        assign_document(s, world.admin, doc.id, "sachb")
    with world.session() as s:
        documents.discard_document(s, world.clerk, doc.id, "Fehlscan")
    with world.session() as s, pytest.raises(Conflict, match="discarded"):
        assign_document(s, world.clerk, doc.id, "sachb")
