"""Signed PDFs (issue 25): kept byte-exact, their signatures validated with pyHanko against a
test CA made here (valid, tampered, changed after signing, untrusted chain, expired,
qualified), stored per document, shown on the document page and in the API."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from eakte import audit
from eakte.ingest import signature_store
from eakte.ingest.signatures import Status, Trust, validate
from eakte.models import FileVersion
from eakte.models.api import Scope
from eakte.models.ingest import TransferNote
from eakte.services import accounts, api_tokens
from tests.fixtures.cli import eakte
from tests.ingest.conftest import born_digital_pdf
from tests.ingest.pdf_signing import (
    Issued,
    append_update,
    issue,
    make_ca,
    sign_pdf,
    tamper,
)


@dataclass
class Corpus:
    trust_dir: Path
    valid: bytes
    tampered: bytes
    updated: bytes
    untrusted: bytes
    expired: bytes
    qualified: bytes
    qualified_untrusted_root: bytes
    timestamped: bytes
    tsa_time: datetime
    signer: Issued


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    """One CA set and every signed file, made once for the module (key generation and
    signing are the expensive part)."""
    ca, other, qualified_ca = make_ca(), make_ca("Fremde CA"), make_ca("Qualifizierte Test-CA")
    trust_dir = tmp_path_factory.mktemp("trust")
    (trust_dir / "test-ca.pem").write_bytes(ca.pem)
    (trust_dir / "qualified").mkdir()
    (trust_dir / "qualified" / "qca.der").write_bytes(qualified_ca.der)
    (trust_dir / "README.txt").write_text("not a certificate")
    signer = issue(ca, "Erika Mustermann", "Stadt Usingen", "erika.mustermann@example.org")
    plain = born_digital_pdf(1, "Bauantrag Gartenhaus Flur 3")
    valid = sign_pdf(plain, signer, ca)
    now = datetime.now(UTC)
    expired = issue(
        ca, "Otto Abgelaufen", valid_from=now - timedelta(days=800), valid_to=now - timedelta(1)
    )
    qualified = issue(qualified_ca, "Quentin Qualifiziert", "Notariat", qualified=True)
    tsa_time = (now - timedelta(hours=2)).replace(microsecond=0)
    return Corpus(
        trust_dir=trust_dir,
        valid=valid,
        # the creation date of the signed revision: inside the signed byte range
        tampered=tamper(valid, b"/CreationDate (D:2", b"/CreationDate (D:1"),
        updated=append_update(valid),
        untrusted=sign_pdf(plain, issue(other, "Unbekannt"), other),
        expired=sign_pdf(plain, expired, ca),
        qualified=sign_pdf(plain, qualified, qualified_ca),
        qualified_untrusted_root=sign_pdf(
            plain, issue(ca, "Quasi Qualifiziert", qualified=True), ca
        ),
        timestamped=sign_pdf(
            plain,
            signer,
            ca,
            tsa=issue(ca, "Zeitstempeldienst", time_stamping=True),
            tsa_time=tsa_time,
        ),
        tsa_time=tsa_time,
        signer=signer,
    )


def _check(tmp_path, data: bytes, trust_dir: Path | None):
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    (result,) = validate(path, Trust.load(trust_dir))
    return result


def test_valid_signature_from_a_trusted_ca(corpus, tmp_path):
    result = _check(tmp_path, corpus.valid, corpus.trust_dir)
    assert result.status == Status.valid and result.trusted
    assert result.signer == "Erika Mustermann"
    assert result.organisation == "Stadt Usingen"
    assert result.email == "erika.mustermann@example.org"
    assert result.signing_time is not None
    assert abs(result.signing_time - datetime.now(UTC)) < timedelta(hours=1)
    assert result.whole_document and not result.modified_after_signing
    assert not result.qualified
    assert "Revocation not checked" in result.details_text


def test_signature_bytes_changed_in_the_signed_range_is_tampered(corpus, tmp_path):
    assert corpus.tampered != corpus.valid
    result = _check(tmp_path, corpus.tampered, corpus.trust_dir)
    assert result.status == Status.tampered
    assert "digest" in result.details_text


def test_incremental_update_after_signing_is_reported(corpus, tmp_path):
    assert corpus.updated.startswith(corpus.valid) and len(corpus.updated) > len(corpus.valid)
    result = _check(tmp_path, corpus.updated, corpus.trust_dir)
    assert result.modified_after_signing and not result.whole_document
    assert result.status == Status.valid  # the signed revision itself is intact
    assert "changed after signing" in result.details_text


def test_chain_to_another_ca_is_untrusted(corpus, tmp_path):
    result = _check(tmp_path, corpus.untrusted, corpus.trust_dir)
    assert result.status == Status.untrusted and not result.trusted
    assert result.signer == "Unbekannt"


def test_nothing_is_trusted_without_a_trust_folder(corpus, tmp_path):
    result = _check(tmp_path, corpus.valid, None)
    assert result.status == Status.untrusted
    assert "EAKTE_SIGNATURE_TRUST_DIR" in result.details_text


def test_expired_certificate(corpus, tmp_path):
    result = _check(tmp_path, corpus.expired, corpus.trust_dir)
    assert result.status == Status.expired
    assert "not valid when it signed" in result.details_text


def test_qc_statements_and_a_qualified_root_show_a_qualified_signature(corpus, tmp_path):
    result = _check(tmp_path, corpus.qualified, corpus.trust_dir)
    assert result.status == Status.valid and result.qualified
    assert "EU trusted list was not consulted" in result.details_text
    # the same marks under a root not marked qualified: not shown as qualified
    other = _check(tmp_path, corpus.qualified_untrusted_root, corpus.trust_dir)
    assert other.status == Status.valid and not other.qualified
    assert "not marked qualified" in other.details_text


def test_unreadable_signature_is_a_result_not_an_error(tmp_path):
    path = tmp_path / "broken.pdf"
    data = born_digital_pdf(1)
    path.write_bytes(data[: len(data) // 2] + b"/FT /Sig /V << /ByteRange [0 1 2 3] >>")
    results = validate(path, Trust())
    assert all(r.status == Status.unknown for r in results)


# ----------------------------------------------------------------- through the pipeline


def test_signed_pdf_is_kept_byte_exact_and_its_signatures_stored_and_shown(
    desk, corpus, sign_in, client, world
):
    result = desk.take(corpus.updated, "bauantrag-signiert.pdf", settings=desk.rt.settings)
    assert result.accepted  # not finished at intake: signatures are validated in the worker
    doc_id = result.document.id
    assert desk.process(doc_id, signature_trust_dir=corpus.trust_dir) == "ready"
    doc = desk.document(doc_id)
    assert "signed" in doc.flags.split(",")
    with desk.rt.session() as s:
        versions = s.scalars(select(FileVersion).where(FileVersion.document_id == doc_id)).all()
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc_id))
        rows = signature_store.of_document(s, doc_id)
    (original,) = versions  # born digital: no rendition, nothing rewritten
    with desk.rt.store.open(original.s3_key, original.s3_version_id, original.sha256) as r:
        assert r.read() == corpus.updated
    assert "signed PDF" in note.anomalies
    (row,) = rows
    assert row.status == "valid" and row.signer == "Erika Mustermann"
    assert row.modified_after_signing and row.validated_at is not None
    assert "Bauantrag Gartenhaus" in doc.extracted_text

    page = sign_in("sachb").get(f"/dokumente/{doc.uuid}").get_data(as_text=True)
    assert "Erika Mustermann" in page
    assert "nach dieser Unterschrift geändert" in page  # changed after signing, in German

    with desk.rt.session() as s:
        user = accounts.find_user(s, world.tenant, "sachb")
        _, token = api_tokens.create_token(s, user, "Portal", {Scope.read})
    body = client.get(
        f"/api/v1/documents/{doc.uuid}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    (sig,) = body["signatures"]
    assert sig["status"] == "valid" and sig["modified_after_signing"] is True
    assert sig["signer"] == "Erika Mustermann"


def test_broken_signature_does_not_fail_the_document(desk, corpus):
    result = desk.take(corpus.tampered, "manipuliert.pdf")
    assert desk.process(result.document.id, signature_trust_dir=corpus.trust_dir) == "ready"
    with desk.rt.session() as s:
        (row,) = signature_store.of_document(s, result.document.id)
    assert row.status == "tampered"


def test_a_validator_that_dies_leaves_a_finding_not_a_failed_document(desk, corpus, monkeypatch):
    from eakte.ingest import signatures

    def dies(path, trust, now=None):  # runs in the confined child: the child dies
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(signatures, "validate", dies)
    result = desk.take(corpus.valid, "absturz.pdf")
    assert desk.process(result.document.id) == "ready"
    with desk.rt.session() as s:
        (row,) = signature_store.of_document(s, result.document.id)
    assert row.status == "unknown" and "Validation stopped" in row.details


def test_signatures_check_command_validates_again_with_the_trust_folder_as_it_is_now(
    desk, corpus, env, monkeypatch
):
    result = desk.take(corpus.valid, "bauantrag.pdf")
    assert desk.process(result.document.id) == "ready"  # no trust folder: untrusted
    with desk.rt.session() as s:
        (row,) = signature_store.of_document(s, result.document.id)
    assert row.status == "untrusted"
    monkeypatch.setenv("EAKTE_SIGNATURE_TRUST_DIR", str(corpus.trust_dir))
    run = eakte("signatures", "check")
    assert run.returncode == 0, run.stderr
    assert "Unterschrift: valid (Erika Mustermann)" in run.stdout
    assert "checked 1 document(s)" in run.stdout
    with desk.rt.session() as s:
        (row,) = signature_store.of_document(s, result.document.id)
        doc = desk.document(result.document.id)
        actions = [e.action for e in audit.history(s, str(doc.uuid))]
    assert row.status == "valid" and "signatures_checked" in actions
    unknown = eakte("signatures", "check", "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode != 0 and "no document" in unknown.stderr


def test_trust_folder_setting_must_name_a_folder(tmp_path):
    from eakte.config import Settings
    from eakte.errors import ConfigError

    base = {"EAKTE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).signature_trust_dir is None  # nothing trusted by default
    chosen = Settings.from_env({**base, "EAKTE_SIGNATURE_TRUST_DIR": str(tmp_path)})
    assert chosen.signature_trust_dir == tmp_path
    with pytest.raises(ConfigError, match="EAKTE_SIGNATURE_TRUST_DIR"):
        Settings.from_env({**base, "EAKTE_SIGNATURE_TRUST_DIR": str(tmp_path / "fehlt")})


def test_timestamp_token_time_is_reported_beside_the_claimed_time(corpus, tmp_path):
    result = _check(tmp_path, corpus.timestamped, corpus.trust_dir)
    assert result.status == Status.valid
    assert result.timestamp_time == corpus.tsa_time
    assert result.signing_time is not None
