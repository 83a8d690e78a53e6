"""Aktenvermerk and Verfügung (issue 16): written with the case's data filled in, taken in as
HTML and rendered to PDF/A by the worker's LibreOffice like any text document, versioned, and
routable (a later version needs a new route)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eakte.errors import RouteVersionChanged
from eakte.models import Document, FileVersion, Process
from eakte.models.workflow import RouteStep
from eakte.workflow import routes, vermerk
from tests.ingest.conftest import Desk as Ingest
from tests.workflow.conftest import step


def test_aktenvermerk_written_rendered_versioned_and_routed(world, desk, tmp_path):
    case, process, _doc = desk.filed(case_title="Gaststätte Zur Linde")
    w = world
    work = tmp_path / "work"
    work.mkdir()
    ingest = Ingest(w, work)
    with w.session() as s:
        text = vermerk.template(s, w.clerk, s.get(Process, process.id))
    assert case.file_reference in text and "Gaststätte Zur Linde" in text
    assert "Datum: 01.03.2027" in text  # the workflow's clock
    text += "Ortstermin am 28.02.: Lärmschutz <ausreichend>."
    with w.session() as s:
        note = vermerk.write(
            s, w.clerk, w.rt.store, w.rt.settings, process.id, text, enqueue=ingest.enqueue
        )
        note_id = note.id
    ingest.process_queued()  # the worker: LibreOffice renders the HTML to PDF/A
    with w.session() as s:
        document = s.get(Document, note_id)
        assert document.status == "ready" and document.process_id == process.id
        assert [v.kind for v in document.versions] == ["original", "rendition"]
        assert "Lärmschutz <ausreichend>" in document.extracted_text  # escaped, shown as typed
        route = routes.start_route(
            s, w.clerk, document=note_id, steps=[step(1, "schlusszeichnung", w.officer)]
        )
        step_id = s.scalar(select(RouteStep.id).where(RouteStep.route_id == route.id))
    with w.session() as s:
        vermerk.revise(
            s, w.clerk, w.rt.store, note_id, text + "\n\nNachtrag.", enqueue=ingest.enqueue
        )
    ingest.process_queued()
    with w.session() as s:
        kinds = [
            v.kind
            for v in s.scalars(
                select(FileVersion)
                .where(FileVersion.document_id == note_id)
                .order_by(FileVersion.id)
            )
        ]
        assert kinds.count("original") == 2 and kinds.count("rendition") >= 2
        assert "Nachtrag" in s.get(Document, note_id).extracted_text
        with pytest.raises(RouteVersionChanged):  # the route was about the first version
            routes.decide(s, w.officer, step_id, "schlussgezeichnet")
