"""R31: the 0503 transfer carries every route as Geschäftsgang / Beteiligungsschritt, valid
against the packaged xdomea 3.1.0 schema (``transfer_message`` validates before returning)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from defusedxml import ElementTree as ET
from sqlalchemy import select

from eakte.models import Case
from eakte.models.workflow import RouteStep
from eakte.services import cases
from eakte.workflow import deputies, routes
from retention.transfer_entries import case_entry
from retention.xdomea import NAMESPACE
from retention.xdomea.model import Header
from retention.xdomea.writer import transfer_message
from tests.workflow.conftest import step

NS = {"x": NAMESPACE}


def _ids(s, route_id):
    return list(
        s.scalars(select(RouteStep.id).where(RouteStep.route_id == route_id).order_by(RouteStep.id))
    )


def test_r31_the_transfer_carries_every_route_as_geschaeftsgang(world, desk):
    case, process, doc = desk.filed()
    w = world
    with w.session() as s:
        recalled = routes.start_route(
            s,
            w.clerk,
            document=doc.id,
            title="Erster Entwurf",
            steps=[step(1, "mitzeichnung", w.clerk_bau)],
        )
        routes.recall(s, w.clerk, recalled.id, "neu gefasst")
        signed = routes.start_route(
            s,
            w.clerk,
            document=doc.id,
            title="Bescheid",
            steps=[
                step(1, "mitzeichnung", w.clerk_sub),
                step(1, "mitzeichnung", w.clerk_bau),
                step(2, "schlusszeichnung", w.officer),
            ],
        )
        signed_id = signed.id
        deputies.add(s, w.clerk_sub, deputy="bau", starts_on=desk.today())
        on_process = routes.start_route(
            s,
            w.clerk,
            process=process.id,
            steps=[step(1, "kenntnis", None, unit=w.clerk.org_unit_id)],
        )
        on_process_id = on_process.id
    with w.session() as s:
        first, second, final = _ids(s, signed_id)
        routes.decide(s, w.clerk_bau, first, "mitgezeichnet", "i. V. geprüft")  # for hund
        routes.decide(s, w.clerk_bau, second, "mitgezeichnet_mit_aenderungen")
        routes.decide(s, w.officer, final, "schlussgezeichnet")
        (note,) = _ids(s, on_process_id)
        routes.decide(s, w.clerk, note, "zur_kenntnis_genommen")
        cases.close_case(s, w.clerk, case.id)
    with w.session() as s:
        entry = case_entry(s, s.get(Case, case.id), with_content=True)
    header = Header(str(uuid.uuid4()), datetime.now(UTC), "Stadt Usingen", "", "Stadtarchiv")
    xml = transfer_message(header, [entry])  # raises XdomeaInvalid if not schema-valid
    root = ET.fromstring(xml)
    vorgang = root.find(".//x:Vorgang", NS)
    dokument = vorgang.find("x:Dokument", NS)
    process_gang = vorgang.find("x:InternerGeschaeftsgang", NS)
    document_gang = dokument.find("x:InternerGeschaeftsgang", NS)
    assert len(process_gang.findall("x:Beteiligungsschritt", NS)) == 1
    document_steps = document_gang.findall("x:Beteiligungsschritt", NS)
    assert [s.findtext("x:Nummer", namespaces=NS) for s in document_steps] == ["1", "2", "3", "4"]
    assert [s.find("x:Status/code", NS).text for s in document_steps] == [
        "004",
        "003",
        "003",
        "003",
    ]  # the recalled route's step was skipped
    behalf = document_steps[1].find("x:Bearbeitung", NS)
    assert "i. V. für hund" in behalf.findtext("x:Vermerk", namespaces=NS)
    assert behalf.findtext("x:Notiz", namespaces=NS) == "i. V. geprüft"
    final_vermerk = document_steps[3].findtext("x:Bearbeitung/x:Vermerk", namespaces=NS)
    assert "schlussgezeichnet" in final_vermerk and "sha256" in final_vermerk
    assert "Erster Entwurf" in document_steps[0].findtext(
        "x:Verfuegung/x:Verfuegung", namespaces=NS
    )
