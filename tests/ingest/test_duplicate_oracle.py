"""Issue 14, finding 12 (R22): the answer "duplicate" must not tell an uploader that a document
they may not see exists. Such an upload is taken in as a new document, linked internally to
the one with the same bytes, and the link is audited where only the audit trail shows it."""

import io
import json

import pytest
from sqlalchemy import select

from eakte import audit
from eakte.models import AuditEvent
from eakte.models.ingest import TransferNote
from eakte.services import documents
from eakte.services.intake import Outcome, Target
from tests.ingest.conftest import born_digital_pdf


def trace_of(desk, result) -> str:
    """Everything the uploader can learn about their new document: outcome, its history
    (shown on the document page) and its transfer note."""
    with desk.rt.session() as s:
        uuid = str(result.document.uuid)
        history = [(e.action, e.details) for e in audit.history(s, uuid)]
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == result.document.id))
        return f"{result.outcome} {history} {note.anomalies}"


@pytest.mark.parametrize("restricted", [False, True], ids=["other_unit", "restricted"])
def test_r22_duplicate_of_a_hidden_document_is_a_new_linked_document(desk, world, restricted):
    data = born_digital_pdf(1, "Anzeige gegen Nachbarn")
    hidden = desk.take(data, "anzeige.pdf", target=Target(org_unit="32")).document
    if restricted:
        with world.session() as s:
            documents.restrict_document(s, world.clerk, hidden.id, True, "Art. 18 DSGVO")
        uploader, unit = world.clerk, "32"  # same unit, but restricted documents are hidden
    else:
        uploader, unit = world.clerk_bau, "60"
    again = desk.take(io.BytesIO(data), "kopie.pdf", actor=uploader, target=Target(org_unit=unit))
    assert again.outcome == Outcome.accepted
    assert again.document.id != hidden.id and str(hidden.uuid) not in trace_of(desk, again)
    assert "duplicate" not in trace_of(desk, again)
    with desk.rt.session() as s:
        assert desk.document(again.document.id).duplicate_of_id == hidden.id  # linked inside
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "duplicate_hidden"))
        assert json.loads(event.details) == {
            "document": str(again.document.uuid),
            "of": str(hidden.uuid),
        }
        assert event.username == uploader.username and event.object_uuid == ""


def test_duplicate_the_uploader_may_see_is_still_answered_as_duplicate(desk, world):
    data = born_digital_pdf(1, "Gewerbeanmeldung")
    first = desk.take(data, "a.pdf", target=Target(org_unit="32.2"))
    again = desk.take(io.BytesIO(data), "b.pdf", actor=world.clerk, target=Target(org_unit="32"))
    assert again.outcome == Outcome.duplicate and str(first.document.uuid) in trace_of(desk, again)
