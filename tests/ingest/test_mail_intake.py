"""Mail files (issue 25 part 3), taken in: a message becomes a document with a PDF/A
rendition, and each attachment a document of its own, linked to the message; reruns, crashes,
duplicates, filing and the pages that show the links. Reading and bounds: ``test_mail_reading``.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pikepdf
import pytest
from sqlalchemy import func, select

from eakte.ingest import mail_intake
from eakte.ingest.reasons import Reason
from eakte.models import Document, FileVersion, VersionKind
from eakte.models.ingest import QuarantinedFile, TransferNote
from eakte.models.mail import MailAttachment, MailMessage
from eakte.services import cases, documents
from eakte.services import mail as mail_service
from eakte.services.intake import Outcome
from tests.fixtures.app import csrf_token
from tests.fixtures.cli import eakte
from tests.ingest.conftest import born_digital_pdf
from tests.ingest.mails import letter, many_parts, smime, with_attachments
from tests.ingest.msgfile import outlook_message
from web.api import document_json

# ------------------------------------------------------------------ through the intake


def _read(desk, version) -> bytes:
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
        return reader.read()


def _counts(world) -> tuple[int, int, int]:
    with world.session() as s:
        return (
            s.scalar(select(func.count(Document.id))),
            s.scalar(select(func.count(QuarantinedFile.id))),
            s.scalar(select(func.count(MailAttachment.id))),
        )


def test_message_becomes_a_document_with_linked_attachments(desk, world, tmp_path):
    raw = with_attachments().as_bytes()
    result = desk.take(raw, "Antrag mit Anlagen.eml")
    assert result.outcome == Outcome.accepted
    kinds = [(r.outcome, r.reason_code) for r in mail_intake.every_result(result)]
    assert kinds == [
        (Outcome.accepted, ""),  # the message
        (Outcome.accepted, ""),  # Grundriss.pdf
        (Outcome.accepted, ""),  # Foto.png
        (Outcome.quarantined, Reason.type_not_allowed),  # Anlagen.zip
        (Outcome.accepted, ""),  # the forwarded message
        (Outcome.accepted, ""),  # … and its Stellungnahme.pdf
    ]
    assert _counts(world) == (5, 1, 5)
    assert len(desk.queued) == 5  # every document queued for the worker
    assert all(r == "ready" for r in desk.process_queued())
    message = desk.document(result.document.id)
    original = next(v for v in message.versions if v.kind == VersionKind.original)
    rendition = next(v for v in message.versions if v.kind == VersionKind.rendition)
    assert original.mime == "message/rfc822" and original.filename == "Antrag mit Anlagen.eml"
    assert _read(desk, original) == raw  # byte-exact
    assert rendition.mime == "application/pdf"
    rendered = tmp_path / "rendition.pdf"
    rendered.write_bytes(_read(desk, rendition))
    with pikepdf.open(rendered) as pdf:
        assert pdf.open_metadata()["pdfaid:part"] == "2"
    text = message.extracted_text
    for expected in ("Antrag mit Anlagen", "Jürgen Müller", "anbei mein Antrag", "Anlagen.zip"):
        assert expected in text
    with world.session() as s:
        row = s.get(MailMessage, message.id)
        assert (
            row.complete and row.attachment_count == 4 and row.message_id.endswith("@example.de>")
        )
        links = mail_service.links(s, world.clerk, s.get(Document, message.id))
        assert [(a.index, a.filename) for a in links.attachments] == [
            (1, "Grundriss.pdf"),
            (2, "Foto.png"),
            (3, "Anlagen.zip"),
            (4, "Weitergeleitet Stellungnahme Bauamt.eml"),
        ]
        assert links.attachments[2].document is None and links.attachments[2].reason_code == (
            "type_not_allowed"
        )
        pdf_doc = links.attachments[0].document
        assert pdf_doc.title == "Grundriss" and "Grundriss Gaststätte" in pdf_doc.extracted_text
        back = mail_service.links(s, world.clerk, pdf_doc)
        assert back.parent.id == message.id and back.parent_index == 1
        nested = links.attachments[3].document
        nested_links = mail_service.links(s, world.clerk, nested)
        assert [a.filename for a in nested_links.attachments] == ["Stellungnahme.pdf"]
        zipped = s.scalar(select(QuarantinedFile))
        assert "Antrag mit Anlagen.eml" in zipped.source and zipped.org_unit_id is not None


def test_outlook_message_through_the_intake(desk, world):
    raw = outlook_message(
        subject="Bauantrag",
        body="Unterlagen anbei.",
        sender="Jürgen Müller",
        sender_address="jm@example.de",
        attachments=[("Lageplan.pdf", born_digital_pdf(1, "Lageplan"), "application/pdf")],
        embedded=[dict(subject="Nachbar", body="Keine Einwände.")],
    )
    result = desk.take(raw, "Bauantrag.msg")
    assert [r.outcome for r in mail_intake.every_result(result)] == [Outcome.accepted] * 3
    assert all(r == "ready" for r in desk.process_queued())
    message = desk.document(result.document.id)
    assert message.versions[0].mime == "application/vnd.ms-outlook"
    assert "Unterlagen anbei." in message.extracted_text and message.page_count == 1
    with world.session() as s:
        links = mail_service.links(s, world.clerk, s.get(Document, message.id))
        nested = links.attachments[1].document
        assert nested.versions[0].mime == "message/rfc822"
        assert "Keine Einwände." in nested.extracted_text


@pytest.mark.parametrize("raw", [smime(), many_parts(600)], ids=["encrypted", "too-many-parts"])
def test_unreadable_message_quarantined_with_reason(desk, world, raw):
    result = desk.take(raw, "post.eml")
    assert result.outcome == Outcome.quarantined
    assert result.reason_code in (Reason.mail_encrypted, Reason.mail_too_complex)
    assert result.reason and "/" not in result.reason.split("(")[0]
    assert _counts(world) == (0, 1, 0)


def test_import_rerun_and_crash_between_message_and_attachments(desk, world, monkeypatch):
    """The message is committed, the worker dies at the second attachment; the re-run finds
    the message, takes in what is missing, and a third run adds nothing."""
    raw = with_attachments().as_bytes()
    key = "import:/post/antrag.eml|1|1"
    real = mail_intake._run
    calls = []

    def crash_at_second(session, store, child):
        calls.append(child.source_key)
        if len(calls) == 2:
            raise OSError("worker killed")
        return real(session, store, child)

    monkeypatch.setattr(mail_intake, "_run", crash_at_second)
    with pytest.raises(OSError):
        desk.take(raw, "antrag.eml", source_key=key, method="import")
    assert _counts(world) == (2, 0, 1)  # the message and its first attachment
    monkeypatch.setattr(mail_intake, "_run", real)
    again = desk.take(raw, "antrag.eml", source_key=key, method="import")
    assert again.outcome == Outcome.existing
    assert [r.outcome for r in again.attachments] == [
        Outcome.existing,
        Outcome.accepted,
        Outcome.quarantined,
        Outcome.accepted,
    ]
    assert _counts(world) == (5, 1, 5)
    third = desk.take(raw, "antrag.eml", source_key=key, method="import")
    assert third.outcome == Outcome.existing and third.attachments == []
    assert _counts(world) == (5, 1, 5)
    with world.session() as s:
        sources = s.scalars(select(Document.source_key).order_by(Document.id)).all()
        message_uuid = s.scalar(select(Document.uuid).where(Document.source_key == key))
        assert sources[1] == f"mail:{message_uuid}/1"


def test_recovery_finishes_an_uploaded_message_a_crash_interrupted(desk, world, monkeypatch):
    """An upload has no source key for a re-run: the recovery finds the message by its
    unfinished mark and takes in what is missing, once."""
    real = mail_intake._run
    calls = []

    def crash_at_third(session, store, child):
        calls.append(child.source_key)
        if len(calls) == 3:
            raise OSError("worker killed")
        return real(session, store, child)

    monkeypatch.setattr(mail_intake, "_run", crash_at_third)
    with pytest.raises(OSError):
        desk.take(with_attachments().as_bytes(), "antrag.eml")
    monkeypatch.setattr(mail_intake, "_run", real)
    assert _counts(world) == (3, 0, 2)
    finish = mail_intake.finish_messages
    with world.session() as s:
        assert finish(s, desk.rt.store, desk.settings) == 0  # too young: perhaps still at work
    queued = []
    with world.session() as s:
        done = finish(
            s,
            desk.rt.store,
            desk.settings,
            older_than=timedelta(0),
            enqueue=lambda i, ready=False: queued.append(i),
        )
    assert done == 1 and len(queued) == 2  # the forwarded message and its PDF; zip quarantined
    assert _counts(world) == (5, 1, 5)
    with world.session() as s:
        assert finish(s, desk.rt.store, desk.settings, older_than=timedelta(0)) == 0
        zipped = s.scalar(select(QuarantinedFile))
        assert zipped.submitted_by == "scan" and zipped.org_unit_id is not None
    assert _counts(world) == (5, 1, 5)


def test_same_bytes_again_is_a_duplicate(desk, world):
    raw = letter("Zweimal").as_bytes()
    first = desk.take(raw, "a.eml")
    second = desk.take(raw, "b.eml")
    assert first.outcome == Outcome.accepted and second.outcome == Outcome.duplicate
    assert second.document.duplicate_of_id == first.document.id


def test_filing_the_message_files_its_attachments_along(desk, world):
    result = desk.take(with_attachments().as_bytes(), "Antrag.eml")
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gaststätte Zur Linde", year=2026)
        process = cases.add_process(s, world.clerk, case.id, "Erlaubnis")
    with world.session() as s:
        documents.file_document(s, world.clerk, result.document.id, process.id)
    with world.session() as s:
        filed = s.scalars(select(Document.title).where(Document.process_id == process.id)).all()
        assert sorted(filed) == sorted(
            ["Antrag", "Grundriss", "Foto", "Weitergeleitet Stellungnahme Bauamt", "Stellungnahme"]
        )


def test_uploaded_message_page_and_api_show_the_links(world, sign_in):
    client = sign_in("sachb")
    form = client.get("/hochladen/").get_data(as_text=True)
    response = client.post(
        "/hochladen/",
        data={
            "csrf_token": csrf_token(form),
            "inbox": "32",
            "files": [(io.BytesIO(with_attachments().as_bytes()), "Antrag mit Anlagen.eml")],
        },
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    (uploaded,) = response.get_json()["results"]
    assert uploaded["outcome"] == "accepted"
    page = client.get(uploaded["document"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Anhänge" in html and "Grundriss.pdf" in html and "Anlagen.zip" in html
    assert "in Quarantäne" in html
    with world.session() as s:
        message_uuid = s.scalar(select(Document.uuid).where(Document.title == "Antrag mit Anlagen"))
    assert uploaded["document"].endswith(str(message_uuid))
    with world.session() as s:
        pdf_uuid = s.scalar(select(Document.uuid).where(Document.title == "Grundriss"))
    attachment_page = client.get(f"/dokumente/{pdf_uuid}").get_data(as_text=True)
    assert f"/dokumente/{message_uuid}" in attachment_page
    with world.session() as s:
        message = s.scalar(select(Document).where(Document.uuid == message_uuid))
        data = document_json(message, mail_service.links(s, world.clerk, message))
        assert data["message"]["subject"] == "Antrag mit Anlagen"
        assert [a["filename"] for a in data["attachments"]][:2] == ["Grundriss.pdf", "Foto.png"]
        assert data["attachments"][2] == {
            "index": 3,
            "filename": "Anlagen.zip",
            "document": None,
            "quarantined": True,
            "reason": "type_not_allowed",
        }
        assert data["attachments"][0]["document"] == str(pdf_uuid)


def test_stored_original_of_attachment_is_its_bytes(desk, world):
    pdf = born_digital_pdf(1, "Anlage")
    message = letter()
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="Anlage.pdf")
    result = desk.take(message.as_bytes(), "m.eml")
    attachment = result.attachments[0].document
    with world.session() as s:
        version = s.scalar(select(FileVersion).where(FileVersion.document_id == attachment.id))
        assert version.sha256 == attachment.sha256
    assert _read(desk, version) == pdf


def test_intake_message_entry_point_for_imap(desk, world):
    """The IMAP intake (issue 17) hands raw bytes to ``intake_message``: the same path."""
    from eakte.ingest.intake_context import DocumentMetadata, IntakeContext
    from eakte.ingest.validate import Limits
    from eakte.models import Tenant

    raw = with_attachments().as_bytes()
    with world.session() as s:
        ctx = IntakeContext(
            tenant=s.get(Tenant, world.tenant.id),
            user=None,
            submitted_by="mail:gewerbe@usingen.example",
            data=None,
            filename_raw=b"message.eml",
            metadata=DocumentMetadata(),
            inbox_org_unit_id=world.clerk.org_unit_id,
            process_id=None,
            method="mail",
            source="imap://gewerbe/INBOX/17",
            source_key="imap:gewerbe:INBOX:1:17",
            scan_batch_id=None,
            limits=Limits.from_settings(desk.settings),
            spool_dir=desk.settings.spool_dir(),
        )
        result = mail_intake.intake_message(s, desk.rt.store, raw, ctx)
    assert len(list(mail_intake.every_result(result))) == 6
    assert _counts(world) == (5, 1, 5)


def test_same_message_id_with_other_bytes_is_noted(desk, world):
    """The same mail received twice (other Received lines): both kept, the second noted."""
    first = letter("Einmal")
    second = letter("Einmal")
    second["Received"] = "from mx2.example.de by mail.usingen.example; Mon, 7 Dec 2026"
    assert first["Message-ID"] == second["Message-ID"]
    one = desk.take(first.as_bytes(), "a.eml", actor=world.clerk)
    two = desk.take(second.as_bytes(), "b.eml", actor=world.clerk)
    assert two.outcome == Outcome.accepted
    with world.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == two.document.id))
        assert f"the same Message-ID as document {one.document.uuid}" in note.anomalies


# The command is the same on both databases (the re-run on each: the test above).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_eakte_import_twice_takes_each_attachment_once(tmp_path, world, env):
    folder = tmp_path / "post"
    folder.mkdir()
    (folder / "antrag.eml").write_bytes(with_attachments().as_bytes())
    (folder / "bauantrag.msg").write_bytes(
        outlook_message(
            subject="Bauantrag",
            body="Anbei.",
            attachments=[("Lageplan.pdf", born_digital_pdf(1, "Lageplan"), "application/pdf")],
        )
    )
    first = eakte("import", str(folder), "--user", "scan")
    assert first.returncode == 0, first.stderr
    assert "imported:     2" in first.stdout
    again = eakte("import", str(folder), "--user", "scan")
    assert again.returncode == 0, again.stderr
    assert "already in:   2" in again.stdout
    assert _counts(world) == (7, 1, 6)
