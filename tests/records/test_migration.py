"""Issue 21: paper archive migration (Altaktenübernahme). Scanning staff bring old files in as
they were — old reference, real dates, closure — under a manifest a records officer approved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from eakte.errors import (
    Conflict,
    ManifestInvalid,
    MigrationFourEyes,
    MigrationNeedsApproval,
    NotFound,
    PermissionDenied,
)
from eakte.models import AuditEvent, Case, Document, Role, ScanBatch
from eakte.models.migration import MigrationRun
from eakte.services import accounts, cases, migration, migration_run
from retention.due import list_due
from tests.fixtures.app import PASSWORD
from tests.fixtures.cli import eakte
from tests.ingest.conftest import born_digital_pdf

THIS_YEAR = date.today().year
HEADER = "box;reference;case_title;plan;org_unit;opened;closed;schedule;process;file;title;date;doc_type;sender\n"  # noqa: E501
# A 1998 trade file (ten-year schedule), given per section; a file whose old reference is what
# today's numbering would give next; a file the old plan filed under 321 (mapped to 32.10).
MANIFEST = (
    HEADER
    + "Keller R3 / Karton 17;III/32-14/98;Gaststätte Zur Linde;32.10;32;03.02.1998;10.03.1998;;"
    "Erlaubnis;1998/linde-antrag.pdf;Antrag;02.02.1998;Antrag;Jürgen Müller\n"
    "Keller R3 / Karton 17;III/32-14/98;;;;;;;Erlaubnis;1998/linde-bescheid.pdf;Bescheid;"
    "01.03.1998;Bescheid;Ordnungsamt\n"
    "Keller R3 / Karton 17;III/32-14/98;;;;;;;Widerruf;;;;;\n"
    f"Keller R3 / Karton 18;32.10-0001/{THIS_YEAR};Imbiss Hauptstraße;321;;2019-05-01;"
    "2019-12-20;Hund 6 Jahre;;1999/imbiss.pdf;Anmeldung;2019-05-01;Anmeldung;\n"
)
PLAN_MAP = "old;new\n321;32.10\n"
FILES = {"1998/linde-antrag.pdf", "1998/linde-bescheid.pdf", "1999/imbiss.pdf"}


def _folder(tmp_path):
    root = tmp_path / "karton"
    for number, name in enumerate(sorted(FILES)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(born_digital_pdf(1, f"Altakte Nummer {number}"))
    return root


def _migrate(world, tmp_path, name="Altakten Gewerbe", skip=()):
    """Prepare (scanner), approve (records officer), take the scans in, run (scanner)."""
    root = _folder(tmp_path)
    with world.session() as s:
        migration.prepare(s, world.scanner, name, MANIFEST.encode(), PLAN_MAP.encode(), files=FILES)
        migration.decide(s, world.officer, name, True, "Stichprobe Karton 17 geprüft")
        run, plan = migration.start(s, world.scanner, name, files=FILES)
        _take_in(world, s, run, plan, root, skip)
        return migration_run.run_cases(s, world.scanner, run, plan), run, plan, root


def _take_in(world, s, run, plan, root, skip=()):
    batches = migration.open_box_batches(s, world.scanner, run, plan)
    for spec in plan.documents:
        if spec.file not in skip:
            migration.intake_file(
                s,
                world.scanner,
                world.rt.store,
                run,
                spec,
                root / spec.file,
                batch_id=batches[spec.box],
                settings=world.rt.settings,
                enqueue=None,
            )


def test_r2_r7_r25_old_files_come_in_as_they_were_issue21(world, tmp_path):
    """Finding 2: old reference kept verbatim, real dates and closure; retention from the real
    closure, so the 1998 file is due at once; the case is marked migrated and locked."""
    report = _migrate(world, tmp_path)[0]
    assert report.done and report.cases == 2 and not report.failed
    with world.session() as s:
        linde = s.scalar(select(Case).where(Case.file_reference == "III/32-14/98"))
        assert linde.is_closed and linde.closed_at == date(1998, 3, 10)
        assert linde.created_at.date() == date(1998, 2, 3)
        assert linde.retention_end == date(2009, 1, 1)  # R7: 1998 + 1 + 10 years
        assert linde.object_lock_pending  # R25: its locks follow the commit
        assert linde.migration_box == "Keller R3 / Karton 17"
        assert [(p.number, p.title, p.is_closed) for p in linde.processes] == [
            (1, "Erlaubnis", True),
            (2, "Widerruf", True),
        ]
        docs = s.scalars(select(Document).where(Document.process_id == linde.processes[0].id))
        assert sorted(d.title for d in docs) == ["Antrag", "Bescheid"]
        imbiss = s.scalar(select(Case).where(Case.file_reference == f"32.10-0001/{THIS_YEAR}"))
        assert imbiss.node.code == "32.10"  # mapped from the old plan's 321
        assert imbiss.schedule_override_reason and imbiss.retention_end == date(2026, 1, 1)
        due = {row.file_reference for row in list_due(s, world.officer).rows}
        assert {"III/32-14/98", f"32.10-0001/{THIS_YEAR}"} <= due
        # The audit trail says who prepared, approved and ran it.
        created = s.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "create", AuditEvent.object_uuid == str(linde.uuid)
            )
        )
        for part in ('"migrated": "Altakten Gewerbe"', '"prepared_by": "scan"'):
            assert part in created.details
        assert '"approved_by": "registratur"' in created.details
        # R2: today's numbering goes past the reserved old reference.
        new = cases.create_case(s, world.clerk, "32.10", "Neue Gewerbeanmeldung")
        assert new.file_reference == f"32.10-0002/{THIS_YEAR}"
        # TR-RESISCAN: each box is a scan batch with its transfer note.
        batch = s.scalar(select(ScanBatch).where(ScanBatch.name.like("%Karton 17")))
        assert "prepared by scan" in batch.transfer_note and "Karton 17" in batch.transfer_note


def test_migration_is_checked_whole_with_problems_per_line_issue21(world):
    bad = (
        HEADER + "K1;A/1;Akte;99.9;;1.1.2000;;;;x.pdf;;;;\n"
        "K1;A/2;Akte;99;;2000-01-01;2030-01-01;;;y.pdf;;;;\n"
        "K1;A/3;Akte;32.10;60;2000-01-01;1999-01-01;;;x.pdf;;;;\n"
        "K1;A/4;Akte;32.10;;;;;;z.pdf;;;;\nK1;A/4;Andere;;;;;;;;;;;\n"
    )
    with world.session() as s, pytest.raises(ManifestInvalid) as info:
        migration.prepare(s, world.scanner, "kaputt", bad.encode(), files={"x.pdf"})
    problems = "\n".join(info.value.problems)
    for expected in (
        "line 2: no file plan node '99.9'",
        "line 3: file plan node 99 has no retention schedule (R3)",
        "line 3: case A/2 is closed in the future",
        "line 4: case A/3 is closed before it was opened",
        "line 4: file 'x.pdf' is listed twice (also line 2)",
        "line 3: no file 'y.pdf' in the import folder",
        "line 6: case_title 'Andere' differs from 'Akte' on the first line of case A/4",
    ):
        assert expected in problems
    with world.session() as s:
        assert s.scalar(select(MigrationRun.id)) is None  # nothing kept


def test_who_may_prepare_approve_and_run_issue21(world, tmp_path):
    manifest = MANIFEST.encode()
    with world.session() as s:
        with pytest.raises(PermissionDenied):  # clerks file single documents, as before
            migration.prepare(s, world.clerk, "Clerk", manifest, PLAN_MAP.encode())
        other_unit = MANIFEST.replace(";32.10;32;", ";32.10;60;")
        with pytest.raises(ManifestInvalid, match="do not scan for the org unit"):
            migration.prepare(s, world.scanner, "Bau", other_unit.encode(), PLAN_MAP.encode())
        run = migration.prepare(s, world.scanner, "Vier Augen", manifest, PLAN_MAP.encode())
        with pytest.raises(MigrationNeedsApproval):
            migration.start(s, world.scanner, "Vier Augen")
        with pytest.raises(PermissionDenied):  # scanners never approve
            migration.decide(s, world.scanner, "Vier Augen", True)
        # Four eyes are two people: one holding both roles cannot approve what they prepared.
        both = accounts.create_user(
            s,
            world.tenant,
            "beides",
            PASSWORD,
            {Role.scanner, Role.records_officer},
            org_unit_code="32",
        )
        own = migration.prepare(s, both, "Eigene", manifest, PLAN_MAP.encode())
        with pytest.raises(MigrationFourEyes):
            migration.decide(s, both, own.name, True)
        migration.decide(s, world.officer, run.name, False, "Karton 18 fehlt")
        with pytest.raises(MigrationNeedsApproval):
            migration.start(s, world.scanner, run.name)
        with pytest.raises(NotFound):
            migration.find_run(s, world.scanner, "gibt es nicht")


def test_resumed_run_brings_in_the_rest_once_issue21(world, tmp_path):
    """A run whose scans are not all in yet brings in the complete cases and stops short; run
    again, it brings in the rest, each case once."""
    first, _, _, root = _migrate(world, tmp_path, "Karton 18", skip={"1999/imbiss.pdf"})
    assert not first.done and first.cases == 1
    assert first.failed[0][0] == f"32.10-0001/{THIS_YEAR}"
    with world.session() as s:
        run, plan = migration.start(s, world.scanner, "Karton 18", files=FILES)
        _take_in(world, s, run, plan, root)
        second = migration_run.run_cases(s, world.scanner, run, plan)
        assert second.done and (second.cases, second.already_in) == (1, 1)
        assert len(s.scalars(select(Case.id).where(Case.migration_run_id == run.id)).all()) == 2
        with pytest.raises(Conflict, match="is done"):
            migration.start(s, world.scanner, run.name)


def test_scanner_files_old_cases_from_the_command_line_issue21(world, env, tmp_path):
    """Finding 1: scanning staff file whole old files into cases with a manifest (before:
    ``NotFound: Process not found`` for every file); processes come from the command line."""
    root = _folder(tmp_path)
    (tmp_path / "manifest.csv").write_bytes(MANIFEST.encode("cp1252"))  # Windows-1252 too
    (tmp_path / "map.csv").write_text(PLAN_MAP)
    steps = [
        ("migration", "prepare", "Keller R3", str(tmp_path / "manifest.csv"), "--folder",
         str(root), "--plan-map", str(tmp_path / "map.csv"), "--dpi", "300", "--user", "scan"),
        ("migration", "approve", "Keller R3", "--user", "registratur", "--password-stdin"),
        ("migration", "run", "Keller R3", str(root), "--user", "scan"),
    ]  # fmt: skip
    # Approving is a decision: without the approver's password nothing is approved.
    unconfirmed = eakte(*steps[1][:-1], stdin="")
    assert unconfirmed.returncode != 0
    for step in steps:
        done = eakte(*step, stdin=PASSWORD + "\n")
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    assert "2 brought in" in done.stdout and "imported:     3" in done.stdout
    again = eakte("migration", "run", "Keller R3", str(root), "--user", "scan")
    assert again.returncode != 0 and "is done" in again.stderr
    with world.session() as s:
        linde = s.scalar(select(Case).where(Case.file_reference == "III/32-14/98"))
        assert linde.is_closed and len(linde.processes) == 2
        filed = s.scalars(select(Document.title).where(Document.process_id.is_not(None)))
        assert sorted(filed) == ["Anmeldung", "Antrag", "Bescheid"]
        assert not linde.object_lock_pending  # R25: locked at import
    added = eakte("case", "add-process", f"32.10-0001/{THIS_YEAR}", "Nachtrag", "--user", "sachb")
    assert added.returncode != 0  # closed (zdA): accepts nothing
    opened = cases.create_case
    with world.session() as s:
        fresh = opened(s, world.clerk, "32.10", "Offene Akte")
    added = eakte("case", "add-process", fresh.file_reference, "Widerspruch", "--user", "sachb")
    assert added.returncode == 0, added.stderr
    assert f"process 1 of {fresh.file_reference}: Widerspruch" in added.stdout


def test_migration_never_reads_the_data_dir(world, env, tmp_path, settings):
    """Issue 14, finding 2, for the migration's walks too: a scan folder inside the data dir
    is refused (links out of the folder are refused by the walk itself)."""
    (tmp_path / "manifest.csv").write_bytes(MANIFEST.encode())
    inside = settings.data_dir / "keller"
    inside.mkdir()
    refused = eakte(
        "migration", "prepare", "Im Datenverzeichnis", str(tmp_path / "manifest.csv"),
        "--folder", str(inside), "--user", "scan",
    )  # fmt: skip
    assert refused.returncode != 0 and "data directory" in refused.stderr


def test_r25_a_scan_rendered_after_the_closure_is_locked_too_issue21(world, tmp_path):
    """A migrated case is closed at once; its scans' PDF/A renditions come later from the
    worker: the case's retain-until is applied to them as well."""
    from eakte.ingest.process import process_document
    from retention.locks import sync_object_locks
    from tests.ingest.conftest import scan_image, scanned_pdf

    (tmp_path / "bau.pdf").write_bytes(scanned_pdf([scan_image(["Bauakte 2020"], dpi=100)]))
    manifest = HEADER + "K9;B/20;Bauakte;32.10;;;2020-06-30;;;bau.pdf;Plan;;;\n"
    with world.session() as s:
        migration.prepare(s, world.scanner, "Bau 2020", manifest.encode(), files={"bau.pdf"})
        migration.decide(s, world.officer, "Bau 2020", True)
        run, plan = migration.start(s, world.scanner, "Bau 2020")
        _take_in(world, s, run, plan, tmp_path)
        report = migration_run.run_cases(s, world.scanner, run, plan)
        sync_object_locks(s, world.rt.store, case_ids=report.case_ids)
        (doc_id,) = migration_run.documents_of(s, run, ["bau.pdf"]).values()
        assert not s.get(Case, report.case_ids[0]).object_lock_pending
        assert process_document(s, world.rt.store, doc_id, work_root=tmp_path) == "ready"
        s.expire_all()
        assert s.get(Case, report.case_ids[0]).object_lock_pending
        sync_object_locks(s, world.rt.store, case_ids=report.case_ids)
        versions = s.get(Document, doc_id).versions
        assert [v.kind for v in versions] == ["original", "rendition"]
        for version in versions:
            retention = world.rt.store.get_retention(version.s3_key, version.s3_version_id)
            assert retention.retain_until.date() == date(2031, 1, 1)


def test_import_manifest_refuses_filing_by_scanners_before_importing_issue21(world):
    """Finding 1, the import manifest: a scanner's manifest that files into cases is refused
    at the check, line by line, instead of passing it and then failing every file."""
    from eakte.ingest.manifest import read_manifest

    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10", "Gaststätte Linde")
        cases.add_process(s, world.clerk, case.id, "Antrag")
        manifest = f"file;file_reference;title;date;doc_type\na.pdf;{case.file_reference};A;;\n"
        with pytest.raises(ManifestInvalid, match="line 2: scan may not file into case"):
            read_manifest(s, world.scanner, manifest.encode(), {"a.pdf"})
        assert read_manifest(s, world.clerk, manifest.encode(), {"a.pdf"})  # clerks: as today
