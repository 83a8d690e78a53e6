"""Issue 21, TR-RESISCAN: each box of a paper archive migration is a scan batch whose transfer
note (operator, device, resolution, colour mode, date, pages, QC) goes with the case to the
archive in the xdomea 0503 package, valid against the schema."""

from datetime import date

from defusedxml.ElementTree import fromstring

from eakte.services import migration, migration_run, scanning
from retention import disposal, schedules, transfer
from tests.records.test_migration import _folder, _take_in
from tests.retention.test_xdomea import NS, _xml_of, appraisal

MANIFEST = (
    "box;reference;case_title;plan;opened;closed;schedule;process;file;title;date;device;dpi;"
    "colour_mode\n"
    "Regal 2 / Karton 5;II/32-7/90;Marktrecht Kirchweih;32.10;1990-05-02;1991-06-30;"
    "Archiv 5 Jahre;;1998/linde-antrag.pdf;Marktrechtsurkunde;1990-05-02;Fujitsu fi-7160;300;gray\n"
)


def test_box_transfer_note_goes_to_the_archive_in_0503_issue21(world, xsd, tmp_path):
    root = _folder(tmp_path)
    with world.session() as s:
        schedules.create_schedule(s, world.officer, "Archiv 5 Jahre", period_years=5, action="A")
        migration.prepare(
            s, world.scanner, "Markt", MANIFEST.encode(), files={"1998/linde-antrag.pdf"}
        )
        migration.decide(s, world.officer, "Markt", True)
        run, plan = migration.start(s, world.scanner, "Markt")
        _take_in(world, s, run, plan, root)
        report = migration_run.run_cases(s, world.scanner, run, plan)
        assert report.done
        scanning.pass_qc(s, world.scanner, "Markt / Regal 2 / Karton 5", "alle Seiten lesbar")
        request = disposal.propose(s, world.officer, report.case_ids)
        disposal.approve(s, world.officer2, request.id)
        process_id = request.xdomea_process_id
        transfer.export_offer(s, world.officer, request.id, tmp_path)
        (case_uuid,) = [str(item.case.uuid) for item in request.items]
        transfer.receive(s, world.officer, appraisal(process_id, {case_uuid: "A"}))
        package = transfer.export_transfer(s, world.officer, world.rt.store, request.id, tmp_path)
    xml = _xml_of(package.path)
    xsd.validate(xml.decode())
    record = fromstring(xml).find("x:Schriftgutobjekt/x:Akte", NS)
    assert record.find("x:AllgemeineMetadaten/x:Kennzeichen", NS).text == "II/32-7/90"
    assert record.find("x:Laufzeit/x:Beginn", NS).text == "1990-05-02"
    assert record.find("x:ZdADatum", NS).text == date(1991, 6, 30).isoformat()
    group = record.find(".//x:Dokument/x:AnwendungsspezifischeErweiterung/x:Feldgruppe", NS)
    fields = {
        f.find("x:Name", NS).text: f.find("x:Wert", NS).text for f in group.findall("x:Feld", NS)
    }
    assert fields["Scanstapel"] == "Markt / Regal 2 / Karton 5"
    assert (fields["Scangerät"], fields["Auflösung (dpi)"], fields["Farbmodus"]) == (
        "Fujitsu fi-7160",
        "300",
        "gray",
    )
    assert fields["Qualitätskontrolle"] == "passed"
    assert fields["Qualitätskontrolle durch"] == "scan"
    assert "prepared by scan" in fields["Transfervermerk"]
