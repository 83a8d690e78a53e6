"""OZG application packages (issue 17): an online service's application — the applicant's
PDF(s), the structured data (JSON or XML) and the service's key (Leistungsschlüssel, LeiKa) —
delivered through the API and put where the tenant's mapping for that key says: into an org
unit's inbox, or into a new case under a file-plan node (with its Aktenzeichen).

The structured data is kept as a document of its own: a PDF listing every field (its text
layer makes it searchable) with the delivered JSON or XML embedded unchanged. Repeating a
delivery with the same ``external_id`` takes nothing in twice (each file's source key).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from defusedxml import ElementTree
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import BadInput, NotFound
from eakte.models import OrgUnit, User
from eakte.models.ozg import OzgMapping, OzgMode
from eakte.permissions import Action, require
from eakte.services import applications
from eakte.services.intake import Enqueue, IncomingFile, Target, intake
from storage.blobstore import BlobStore

KEY = re.compile(r"[0-9A-Za-z._-]{1,40}")
MAX_DATA_BYTES = 5 * 1024 * 1024
MAX_FIELDS = 5000
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass
class Package:
    mode: str
    case_reference: str | None = None
    process_uuid: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    existing: bool = False


def set_mapping(
    session: Session,
    actor: User,
    service_key: str,
    *,
    org_unit: str,
    mode: str = OzgMode.inbox.value,
    file_plan: str = "",
    service_name: str = "",
) -> OzgMapping:
    """Where applications of ``service_key`` go (records officers and administrators)."""
    require(session, actor, Action.manage_fileplan)
    if not KEY.fullmatch(service_key):
        raise BadInput("service key: letters, digits, '.', '_' or '-' (at most 40)")
    if mode not in {m.value for m in OzgMode}:
        raise BadInput("mode: inbox or case")
    if mode == OzgMode.case and not file_plan:
        raise BadInput("mode case needs the file-plan node the cases are created under")
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.tenant_id == actor.tenant_id, OrgUnit.code == org_unit)
    )
    if unit is None:
        raise NotFound(f"org unit {org_unit!r} not found")
    with transaction(session):
        mapping = session.scalar(
            select(OzgMapping).where(
                OzgMapping.tenant_id == actor.tenant_id, OzgMapping.service_key == service_key
            )
        )
        if mapping is None:
            mapping = OzgMapping(tenant_id=actor.tenant_id, service_key=service_key)
            session.add(mapping)
        mapping.org_unit_id, mapping.mode = unit.id, mode
        mapping.file_plan_code, mapping.service_name = file_plan, service_name[:300]
        audit.record(
            session, actor, "ozg_mapping.set", None, tenant_id=actor.tenant_id,
            service_key=service_key, mode=mode, org_unit=org_unit, file_plan=file_plan,
        )  # fmt: skip
    return mapping


def parse_data(data: bytes) -> list[tuple[str, str]]:
    """The structured data's fields as (path, value), JSON or XML (no entities, no DTDs)."""
    if len(data) > MAX_DATA_BYTES:
        raise BadInput(f"the structured data is larger than {MAX_DATA_BYTES} bytes")
    text = data.lstrip()
    if text.startswith((b"{", b"[")):
        try:
            fields = list(_json_fields("", json.loads(data)))
        except (ValueError, RecursionError):
            raise BadInput("the structured data is not valid JSON") from None
    elif text.startswith(b"<"):
        try:
            root = ElementTree.fromstring(data)
        except Exception:  # defusedxml's refusals and parse errors alike
            raise BadInput("the structured data is not valid (or not safe) XML") from None
        fields = list(_xml_fields("", root))
    else:
        raise BadInput("the structured data must be JSON or XML")
    if len(fields) > MAX_FIELDS:
        raise BadInput(f"the structured data has more than {MAX_FIELDS} fields")
    return fields


def _json_fields(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_fields(f"{path}.{key}" if path else str(key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            yield from _json_fields(f"{path}[{index}]", item)
    else:
        yield path, "" if value is None else str(value)


def _xml_fields(path: str, element: Any) -> Iterator[tuple[str, str]]:
    name = element.tag.rsplit("}", 1)[-1]
    here = f"{path}.{name}" if path else name
    for attribute, value in element.attrib.items():
        yield f"{here}@{attribute.rsplit('}', 1)[-1]}", value
    children = list(element)
    if not children:
        yield here, (element.text or "").strip()
    for child in children:
        yield from _xml_fields(here, child)


def data_pdf(
    mapping: OzgMapping, data: bytes, data_name: str, fields: list[tuple[str, str]]
) -> bytes:
    """The structured data as a document: every field listed, the original embedded."""
    pdf = FPDF(format="A4")
    pdf.add_font("dejavu", fname=FONT)
    pdf.set_title(f"Antragsdaten {mapping.service_key}")
    pdf.add_page()
    pdf.set_font("dejavu", size=16)
    pdf.multi_cell(0, 9, "Antragsdaten", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=10)
    service = f"Leistung {mapping.service_key} {mapping.service_name}".strip()
    pdf.multi_cell(0, 6, service, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("dejavu", size=9)
    for path, value in fields:
        pdf.multi_cell(0, 5, f"{path}: {value}"[:2000], new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(bytes=data, basename=data_name)
    return bytes(pdf.output())


def deliver_package(
    session: Session,
    user: User,
    store: BlobStore,
    settings: Settings,
    *,
    service_key: str,
    data: bytes,
    data_name: str,
    files: Sequence[tuple[str, BinaryIO]],
    external_id: str,
    applicant: str = "",
    source: str,
    enqueue: Enqueue | None = None,
) -> Package:
    mapping = session.scalar(
        select(OzgMapping).where(
            OzgMapping.tenant_id == user.tenant_id, OzgMapping.service_key == service_key
        )
    )
    if mapping is None:
        raise NotFound(f"no mapping for service key {service_key!r}")
    if not external_id or len(external_id) > 200:
        raise BadInput("external_id is required (at most 200 characters)")
    fields = parse_data(data)
    kind = "json" if data.lstrip().startswith((b"{", b"[")) else "xml"
    name = re.sub(r"[^\w.-]+", "_", data_name or f"antragsdaten.{kind}")[:100]
    rendered = data_pdf(mapping, data, name, fields)
    title = f"Antragsdaten {mapping.service_name or mapping.service_key}"[:500]
    every = [("Antragsdaten.pdf", io.BytesIO(rendered)), *files]
    if mapping.mode == OzgMode.case:
        case_title = f"{mapping.service_name or mapping.service_key}: {applicant}".strip(": ")
        delivery = applications.deliver_application(
            session,
            user,
            store,
            settings,
            {
                "external_id": f"ozg:{service_key}:{external_id}",
                "case": {"file_plan": mapping.file_plan_code, "title": case_title[:500]},
                "process": {"title": "Antrag"},
                "documents": [{"title": title, "doc_type": "Antragsdaten"}],
            },
            every,
            source=source,
            enqueue=enqueue,
        )
        return Package(
            OzgMode.case.value,
            delivery.case.file_reference,
            str(delivery.process.uuid),
            delivery.documents,
            delivery.existing,
        )
    package = Package(OzgMode.inbox.value)
    for index, (filename, stream) in enumerate(every):
        result = intake(
            session,
            user,
            store,
            IncomingFile(
                stream,
                filename,
                metadata=applications.DocumentMetadata(
                    title=title if index == 0 else "", doc_type="Antragsdaten" if index == 0 else ""
                ),
                target=Target(org_unit=mapping.org_unit_id),
                method="api",
                source=source,
                source_key=f"{source}:ozg:{service_key}:{external_id}:{index}",
            ),
            settings=settings,
            enqueue=enqueue,
        )
        package.documents.append(
            {
                "filename": filename,
                "outcome": result.outcome.value,
                "uuid": str(result.document.uuid) if result.document is not None else None,
                "reason": result.reason_code,
            }
        )
    package.existing = all(d["outcome"] == "existing" for d in package.documents)
    return package
