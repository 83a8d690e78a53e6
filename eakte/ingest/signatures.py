"""The signatures of a signed PDF, validated with pyHanko (issue 25).

For each signature field with a signature (at most ``MAX_SIGNATURES``) this checks:

- **integrity**: the digest of the signed byte range matches the one signed, and the CMS
  signature over it is cryptographically valid (``tampered`` / ``invalid`` otherwise);
- **signer**: subject common name, organisation, e-mail of the signing certificate;
- **signing time**: the time the signer claims, and the time of an embedded RFC 3161
  timestamp token if there is one;
- **trust**: whether the certificate chains to a root in the configured trust folder
  (``EAKTE_SIGNATURE_TRUST_DIR``: PEM or DER files). Nothing is trusted by default: without
  that folder every intact signature is reported ``untrusted``; the operating system's
  certificate store is never used;
- **validity period**: whether the signer's certificate was valid when it signed and is
  valid now (``expired`` otherwise; the details say which);
- **changes after signing**: whether the signature covers the whole file, or revisions were
  appended later (pyHanko's coverage and modification analysis; the kind of change is in the
  details);
- **qualified under eIDAS, as far as can be shown offline**: the signer's certificate carries
  the QCStatements QcCompliance and QcSSCD (ETSI EN 319 412-5), and the chain ends at a root
  the operator marked qualified (files in ``qualified/`` inside the trust folder, e.g. taken
  from the EU trusted list). Not checked: the EU trusted list itself (no download, no network),
  the status of the trust service at signing time, revocation. ``qualified`` therefore means
  "shows the marks of a qualified electronic signature", not a legal finding.

Revocation is not checked online: revocation data embedded in the PDF (its document security
store) is handed to the validator, otherwise the details say that revocation was not checked.

A broken, unreadable or unsupported signature is a result (``unknown`` with the reason), never
an error: nothing here raises for a bad file.
"""

from __future__ import annotations

import enum
import io
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

MAX_SIGNATURES = 20  # signatures validated per document; more are reported, not validated
MAX_CHAIN_CERTS = 20  # certificates a signature may embed
MAX_SECONDS = 60.0  # wall time for all signatures of one document
QUALIFIED_SUBDIR = "qualified"
CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


class Status(enum.StrEnum):
    valid = "valid"  # intact, valid, trusted, certificate valid
    invalid = "invalid"  # the signature value does not verify
    tampered = "tampered"  # the signed bytes were changed
    untrusted = "untrusted"  # intact, but the chain does not end at a trusted root
    expired = "expired"  # intact, but the certificate was or is out of its validity period
    unknown = "unknown"  # could not be validated (the details say why)


@dataclass
class SignatureResult:
    field_name: str
    status: Status
    signer: str = ""
    organisation: str = ""
    email: str = ""
    signing_time: datetime | None = None  # claimed by the signer
    timestamp_time: datetime | None = None  # from an embedded timestamp token
    trusted: bool = False
    modified_after_signing: bool = False
    whole_document: bool = False
    qualified: bool = False
    details: list[str] = field(default_factory=list)

    @property
    def details_text(self) -> str:
        return " ".join(self.details)


@dataclass(frozen=True)
class Trust:
    """Trust anchors from the operator's folder; ``qualified`` holds the SHA-256 fingerprints
    of the roots marked qualified."""

    roots: tuple = ()
    qualified: frozenset[str] = frozenset()

    @classmethod
    def load(cls, folder: Path | None) -> Trust:
        if folder is None or not folder.is_dir():
            return cls()
        roots, qualified = [], set()
        for path, marked in [
            *((p, False) for p in sorted(folder.iterdir())),
            *((p, True) for p in sorted((folder / QUALIFIED_SUBDIR).glob("*"))),
        ]:
            if not path.is_file() or path.suffix.lower() not in CERT_SUFFIXES:
                continue
            for cert in _certs_in(path):
                roots.append(cert)
                if marked:
                    qualified.add(cert.sha256.hex())
        return cls(tuple(roots), frozenset(qualified))


def _certs_in(path: Path) -> list:
    from pyhanko.keys import load_certs_from_pemder_data

    try:
        return list(load_certs_from_pemder_data(path.read_bytes()))
    except Exception as exc:  # a bad file in the folder must not stop validation
        log.warning("trust folder: %s is not a certificate (%s)", path.name, exc)
        return []


def has_signatures(pdf) -> bool:
    """Whether a (pikepdf) PDF has a filled signature field: cheap, for intake."""
    import pikepdf

    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return False
    stack = list(form.get("/Fields", pikepdf.Array()))
    seen = 0
    while stack and seen < 10_000:
        node = stack.pop()
        seen += 1
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.get("/FT") == pikepdf.Name.Sig and "/V" in node:
            return True
        stack.extend(node.get("/Kids", pikepdf.Array()))
    return False


def validate(path: Path, trust: Trust, now: datetime | None = None) -> list[SignatureResult]:
    """Every signature of the PDF at ``path`` (its original bytes), validated."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    now = now or datetime.now(UTC)
    data = path.read_bytes()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:  # permission-protected: the empty user password opens it
            reader.decrypt("")
        embedded = list(reader.embedded_regular_signatures)
    except Exception as exc:
        log.info("signatures of %s not readable: %s", path.name, exc)
        return [
            SignatureResult(
                "", Status.unknown, details=[f"The signatures cannot be read: {_plain(exc)}."]
            )
        ]
    revinfo = _embedded_revocation(reader)
    started = time.monotonic()
    results = []
    for number, sig in enumerate(embedded):
        name = str(sig.field_name or f"signature {number + 1}")
        if number >= MAX_SIGNATURES:
            results.append(
                SignatureResult(
                    name, Status.unknown, details=[f"Not validated: more than {MAX_SIGNATURES}."]
                )
            )
            continue
        if time.monotonic() - started > MAX_SECONDS:
            results.append(
                SignatureResult(name, Status.unknown, details=["Not validated: time limit."])
            )
            continue
        try:
            results.append(_validate_one(sig, name, trust, revinfo, now))
        except Exception as exc:
            log.info("signature %s of %s: validation failed: %s", name, path.name, exc)
            results.append(
                SignatureResult(
                    name, Status.unknown, details=[f"Validation failed: {_plain(exc)}."]
                )
            )
    return results


def validate_confined(path: Path, trust_dir: Path | None, limits) -> list[SignatureResult]:
    """``validate`` in a child process under the job's memory and CPU limits (``confine``):
    a signature that makes the validator run away is reported, and the document goes on."""
    from eakte.ingest.confine import JobFailed, run_confined

    try:
        return run_confined(lambda: validate(path, Trust.load(trust_dir)), limits)
    except JobFailed as exc:
        log.warning("signature validation of %s stopped: %s", path.name, exc)
        return [
            SignatureResult("", Status.unknown, details=[f"Validation stopped: {_plain(exc)}."])
        ]


def _embedded_revocation(reader) -> tuple[list, list, list]:
    """Certificates, CRLs and OCSP responses in the PDF's document security store."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS (the usual case), or an unreadable one
        return [], [], []
    return list(dss.certs.values()), list(dss.crls), list(dss.ocsps)


def _validate_one(sig, name: str, trust: Trust, revinfo, now: datetime) -> SignatureResult:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    certs = list(sig.signed_data["certificates"] or [])
    if len(certs) > MAX_CHAIN_CERTS:
        return SignatureResult(
            name,
            Status.unknown,
            details=[f"Not validated: the signature embeds {len(certs)} certificates."],
        )
    other_certs, crls, ocsps = revinfo
    context = ValidationContext(
        trust_roots=list(trust.roots),  # explicit, also when empty: never the system store
        other_certs=other_certs,
        crls=crls,
        ocsps=ocsps,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    status = validate_pdf_signature(sig, context)
    cert = status.signing_cert
    result = SignatureResult(name, Status.unknown)
    _describe_signer(result, cert)
    result.signing_time = status.signer_reported_dt
    if status.timestamp_validity is not None:
        result.timestamp_time = status.timestamp_validity.timestamp
    result.trusted = bool(status.trusted)
    _judge_coverage(result, status)
    signed_at = result.timestamp_time or result.signing_time or now
    expiry = _expiry(cert, signed_at, now)
    details = result.details
    if not status.intact:
        result.status = Status.tampered
        details.insert(0, "The signed content was changed: its digest does not match.")
    elif not status.valid:
        result.status = Status.invalid
        details.insert(0, "The signature value does not verify.")
    elif expiry:
        result.status = Status.expired
        details.insert(0, expiry)
    elif not result.trusted:
        result.status = Status.untrusted
        details.insert(0, _untrusted_reason(status, trust))
    else:
        result.status = Status.valid
        details.insert(0, "Intact, and the certificate chains to a trusted root.")
    if crls or ocsps:
        details.append("Revocation checked against the data embedded in the PDF only.")
    else:
        details.append("Revocation not checked (no revocation data embedded; checked offline).")
    result.qualified = _qualified(result, status, trust, cert)
    return result


def _describe_signer(result: SignatureResult, cert) -> None:
    subject = cert.subject.native
    result.signer = str(subject.get("common_name", ""))[:300]
    result.organisation = str(subject.get("organization_name", ""))[:300]
    email = subject.get("email_address", "")
    if not email:
        for general in cert.subject_alt_name_value or []:
            if general.name == "rfc822_name":
                email = general.native
                break
    result.email = str(email)[:300]


def _judge_coverage(result: SignatureResult, status) -> None:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    coverage = status.coverage
    result.whole_document = coverage == SignatureCoverageLevel.ENTIRE_FILE
    if result.whole_document:
        return
    result.modified_after_signing = True
    level = status.modification_level
    kinds = {
        ModificationLevel.LTA_UPDATES: "only archival data (validation data, timestamps)",
        ModificationLevel.FORM_FILLING: "form fields filled in or further signatures",
        ModificationLevel.ANNOTATIONS: "comments or annotations",
        ModificationLevel.OTHER: "content changed",
    }
    if coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        result.details.append("The signature does not cover a whole revision of the PDF.")
    kind = kinds.get(level, "of unknown kind")
    result.details.append(f"The PDF was changed after signing: {kind}.")
    if status.docmdp_ok is False:
        result.details.append("The changes exceed what the signer permitted.")


def _expiry(cert, signed_at: datetime, now: datetime) -> str:
    validity = cert["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    if not start <= signed_at <= end:
        return (
            f"The certificate was not valid when it signed ({_day(start)} to {_day(end)}, "
            f"signed {_day(signed_at)})."
        )
    if now > end:
        return f"The certificate expired on {_day(end)} (it was valid when it signed)."
    return ""


def _untrusted_reason(status, trust: Trust) -> str:
    if not trust.roots:
        return "Intact, but no trusted roots are configured (EAKTE_SIGNATURE_TRUST_DIR)."
    indication = getattr(status.trust_problem_indic, "name", "")
    reason = f" ({indication.replace('_', ' ').lower()})" if indication else ""
    return f"Intact, but the certificate does not chain to a trusted root{reason}."


def _qualified(result: SignatureResult, status, trust: Trust, cert) -> bool:
    from pyhanko.sign.ades.qualified_asn1 import get_qc_statements

    try:
        ids = {statement["statement_id"].native for statement in get_qc_statements(cert)}
    except Exception:
        ids = set()
    marks = {"qc_compliance", "qc_sscd"} <= ids
    if not marks:
        return False
    path = status.validation_path
    anchor = getattr(getattr(path, "trust_anchor", None), "authority", None)
    anchor_cert = getattr(anchor, "certificate", None)
    anchored = anchor_cert is not None and anchor_cert.sha256.hex() in trust.qualified
    if result.status == Status.valid and anchored:
        result.details.append(
            "Shows the marks of a qualified electronic signature (QcCompliance, QcSSCD, "
            "a root marked qualified); the EU trusted list was not consulted."
        )
        return True
    result.details.append(
        "The certificate claims to be qualified (QcCompliance, QcSSCD), but "
        + ("its root is not marked qualified." if result.status == Status.valid else "see above.")
    )
    return False


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _plain(exc: BaseException) -> str:
    from eakte.ingest.reasons import plain

    return plain(exc).rstrip(".")
