"""Suggestions for a document (issue 18): its metadata at intake, confirmed or edited by the
clerk (suggested and accepted values both kept), and where to file it, one click filing it.

Filing suggestions only name what the user may file into: open cases reached by the user's
permissions (``eakte.permissions``), checked case by case down the ranked list. First come
cases whose file reference, or a reference quoted in their documents ("Ihr Zeichen",
"Kassenzeichen"), the text names exactly; then the tenant's classifier (``eakte.suggest.
filing``), trained on filed documents by the worker (``train``). Nothing leaves the machine.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict
from eakte.models import Case, CaseStatus, Document, FilePlanNode, Process, User
from eakte.models.base import utcnow
from eakte.models.fields import DocumentField
from eakte.models.recognition import FilingModel, MetadataSuggestion
from eakte.permissions import Action, can, require, unit_scope, visibility
from eakte.services import documents
from eakte.services.guard import audited_refusals, load
from eakte.suggest import filing, metadata

log = logging.getLogger(__name__)

FIELDS = ("title", "letter_date", "sender", "doc_type")
TOP = 3
CANDIDATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{3,60}[A-Za-z0-9]")
MIN_NEW_FOR_TRAINING = 1  # filed documents since the last training that make a new one


# ------------------------------------------------------------------------------ metadata


def record_at_intake(session: Session, document_id: int, tenant_id: int, text: str) -> None:
    """Within the caller's transaction (processing's ``finish``): suggestions from the text,
    replacing undecided earlier ones (a re-scan); decided ones stay as they were."""
    found = metadata.suggest(text).as_dict()
    rows = {
        row.field: row
        for row in session.scalars(
            select(MetadataSuggestion).where(MetadataSuggestion.document_id == document_id)
        )
    }
    for name in FIELDS:
        row = rows.get(name)
        if row is None:
            session.add(
                MetadataSuggestion(
                    tenant_id=tenant_id, document_id=document_id, field=name, suggested=found[name]
                )
            )
        elif row.accepted is None:
            row.suggested = found[name]


@dataclass(frozen=True)
class FieldSuggestion:
    field: str
    suggested: str
    accepted: str | None

    def as_dict(self) -> dict:
        return {"field": self.field, "suggested": self.suggested, "accepted": self.accepted}


def metadata_of(session: Session, actor: User, document_ident: int | str) -> list[FieldSuggestion]:
    """The document's suggestions (made now from its text where intake made none); the
    type from the tenant's classifier where the rules found none."""
    document = load(session, actor, Document, document_ident)
    require(session, actor, Action.view, document)
    rows = {
        row.field: row
        for row in session.scalars(
            select(MetadataSuggestion).where(MetadataSuggestion.document_id == document.id)
        )
    }
    if not rows and document.extracted_text:
        with transaction(session):
            record_at_intake(session, document.id, document.tenant_id, document.extracted_text)
        return metadata_of(session, actor, document_ident)
    out = []
    for name in FIELDS:
        row = rows.get(name)
        suggested = row.suggested if row else ""
        if name == "doc_type" and not suggested and document.extracted_text:
            model = _model(session, document.tenant_id)
            suggested = model.doc_type(document.extracted_text) if model else ""
        out.append(FieldSuggestion(name, suggested, row.accepted if row else None))
    return out


@audited_refusals
def accept_metadata(
    session: Session, actor: User, document_ident: int | str, values: dict[str, str]
) -> Document:
    """The clerk's values (confirmed or edited): stored next to the suggestions and applied to
    the document (title, type, correspondent; the letter date as a field), audited (R23)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise BadInput(f"unknown fields: {', '.join(sorted(unknown))}")
    letter_date = None
    if values.get("letter_date"):
        try:
            letter_date = date.fromisoformat(values["letter_date"])
        except ValueError:
            raise BadInput(f"not a date: {values['letter_date']!r} (YYYY-MM-DD)") from None
    changes = {
        "title": values.get("title", "").strip(),
        "doc_type": values.get("doc_type", "").strip()[:100],
        "correspondent": values.get("sender", "").strip()[:300],
    }
    changes = {k: v for k, v in changes.items() if k in _given(values) and (v or k != "title")}
    document = documents.update_document(session, actor, document_ident, **changes)
    with transaction(session):
        document = session.get_one(Document, document.id)
        rows = {
            row.field: row
            for row in session.scalars(
                select(MetadataSuggestion).where(MetadataSuggestion.document_id == document.id)
            )
        }
        now = utcnow()
        for name, value in values.items():
            row = rows.get(name)
            if row is None:
                row = MetadataSuggestion(
                    tenant_id=document.tenant_id, document_id=document.id, field=name
                )
                session.add(row)
            row.accepted, row.decided_by_id, row.decided_at = value.strip(), actor.id, now
        if "letter_date" in values:
            _set_letter_date(session, document, letter_date)
        audit.record(
            session,
            actor,
            "accept_suggestions",
            document,
            accepted={k: v.strip() for k, v in values.items()},
            suggested={n: r.suggested for n, r in rows.items() if n in values},
        )
    return document


def _given(values: dict[str, str]) -> set[str]:
    return {{"sender": "correspondent"}.get(k, k) for k in values}


def _set_letter_date(session: Session, document: Document, value: date | None) -> None:
    old = session.scalar(
        select(DocumentField).where(
            DocumentField.document_id == document.id,
            DocumentField.source == "clerk",
            DocumentField.name == "letter_date",
        )
    )
    if value is None:
        if old is not None:
            session.delete(old)
        return
    if old is None:
        old = DocumentField(document_id=document.id, source="clerk", name="letter_date")
        session.add(old)
    old.value, old.value_date = value.isoformat(), value


# ------------------------------------------------------------------------------- filing


@dataclass(frozen=True)
class CaseSuggestion:
    case_id: int
    case_uuid: str
    file_reference: str
    title: str
    node_code: str
    node_title: str
    reason: str  # "reference" (named exactly in the text) or "classifier"
    score: float

    def as_dict(self) -> dict:
        return {
            "case": self.case_uuid,
            "file_reference": self.file_reference,
            "title": self.title,
            "node": {"code": self.node_code, "title": self.node_title},
            "reason": self.reason,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class NodeSuggestion:
    code: str
    title: str
    score: float

    def as_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Filing:
    cases: list[CaseSuggestion]
    nodes: list[NodeSuggestion]
    model_documents: int  # documents the classifier was trained on (0: no model yet)

    def as_dict(self) -> dict:
        return {
            "cases": [c.as_dict() for c in self.cases],
            "nodes": [n.as_dict() for n in self.nodes],
            "model_documents": self.model_documents,
        }


def filing_for(session: Session, actor: User, document_ident: int | str) -> Filing:
    """The top cases (and their file-plan nodes) for an inbox document, among the open cases
    ``actor`` may file into."""
    document = load(session, actor, Document, document_ident)
    require(session, actor, Action.file, document)
    text = document.extracted_text or ""
    open_cases = _reachable_open_cases(session, actor)
    ranked: list[tuple[int, float, str]] = []
    for case_id in _exact(session, actor.tenant_id, text):
        ranked.append((case_id, 1e6, "reference"))
    model = _model(session, actor.tenant_id)
    if model is not None:
        for ref in filing.references(text):
            if ref in model.refs:
                ranked.append((model.refs[ref], 1e5, "reference"))
        ranked += [(c, s, "classifier") for c, s in model.rank(text, open_cases, top=50)]
    picked: list[CaseSuggestion] = []
    nodes: dict[str, NodeSuggestion] = {}
    seen: set[int] = set()
    for case_id, score, reason in ranked:
        if case_id in seen or case_id not in open_cases:
            continue
        seen.add(case_id)
        case = session.get(Case, case_id)
        if case is None or not can(session, actor, Action.file, case):
            continue
        node = session.get_one(FilePlanNode, case.node_id)
        if len(picked) < TOP:
            picked.append(
                CaseSuggestion(
                    case.id,
                    str(case.uuid),
                    case.file_reference,
                    case.title,
                    node.code,
                    node.title,
                    reason,
                    score,
                )
            )
        if node.code not in nodes and len(nodes) < TOP:
            nodes[node.code] = NodeSuggestion(node.code, node.title, score)
        if len(picked) >= TOP and len(nodes) >= TOP:
            break
    return Filing(picked, list(nodes.values()), model.documents if model else 0)


def _reachable_open_cases(session: Session, actor: User) -> set[int]:
    """Open cases in the actor's org-unit scope (the final ``can`` is per suggestion)."""
    vis = visibility(session, actor)
    query = select(Case.id).where(
        Case.tenant_id == actor.tenant_id,
        Case.status == CaseStatus.open.value,
        unit_scope(vis, Case.org_unit_id),
    )
    if not vis.restricted:
        query = query.where(Case.restricted.is_(False))
    return set(session.scalars(query))


def _exact(session: Session, tenant_id: int, text: str) -> list[int]:
    """Cases whose file reference the text names."""
    candidates = {
        m.group(0) for m in CANDIDATE.finditer(text) if any(c.isdigit() for c in m.group(0))
    }
    if not candidates:
        return []
    found: list[int] = []
    for chunk in _chunks(sorted(candidates), 500):
        found += session.scalars(
            select(Case.id).where(Case.tenant_id == tenant_id, Case.file_reference.in_(chunk))
        )
    return found


def _chunks(items: list[str], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@audited_refusals
def file_suggested(
    session: Session, actor: User, document_ident: int | str, case_ident: int | str
) -> Document:
    """One click: the document into the case's newest open process."""
    case = load(session, actor, Case, case_ident)
    require(session, actor, Action.file, case)
    process = session.scalar(
        select(Process)
        .where(Process.case_id == case.id, Process.status == CaseStatus.open.value)
        .order_by(Process.number.desc())
        .limit(1)
    )
    if process is None:
        raise Conflict(f"case {case.file_reference} has no open process to file into")
    return documents.file_document(session, actor, document_ident, process.id)


# ----------------------------------------------------------------------------- training


def _model(session: Session, tenant_id: int) -> filing.Model | None:
    row = session.execute(
        select(FilingModel.id, FilingModel.trained_at).where(FilingModel.tenant_id == tenant_id)
    ).first()
    if row is None:
        return None
    return _loaded(row.id, row.trained_at.isoformat(), session)


def _loaded(model_id: int, trained: str, session: Session) -> filing.Model | None:
    key = (model_id, trained)
    cached = _cache.get(key)
    if cached is None:
        blob = session.scalar(select(FilingModel.model).where(FilingModel.id == model_id))
        try:
            cached = filing.load(blob) if blob else None
        except (ValueError, KeyError, OSError) as exc:
            log.warning("filing model %s unreadable (%s); no classifier suggestions", key, exc)
            cached = None
        _cache.clear()  # one model per process at a time is enough for a tenant's clerks
        _cache[key] = cached
    return cached


_cache: dict[tuple[int, str], filing.Model | None] = {}


def model_stamp(session: Session, tenant_id: int) -> tuple[int, int] | None:
    """(documents, newest document) the tenant's model was trained on; None: no model."""
    row = session.execute(
        select(FilingModel.documents, FilingModel.last_document_id).where(
            FilingModel.tenant_id == tenant_id
        )
    ).first()
    return (row[0], row[1]) if row else None


def train(session: Session, tenant_id: int, *, force: bool = False) -> FilingModel | None:
    """Train the tenant's filing model on its filed documents, when documents were filed
    since the last training (or ``force``). Runs in the worker (``eakte.jobs``)."""
    row = session.scalar(select(FilingModel).where(FilingModel.tenant_id == tenant_id))
    stats = session.execute(
        select(func.count(Document.id), func.max(Document.id)).where(
            Document.tenant_id == tenant_id, Document.process_id.is_not(None)
        )
    ).one()
    count, newest = stats[0] or 0, stats[1] or 0
    if row is not None and not force and newest <= row.last_document_id and count == row.documents:
        return row
    filed = session.execute(
        select(Document.extracted_text, Process.case_id, Document.doc_type)
        .join(Process, Process.id == Document.process_id)
        .where(Document.tenant_id == tenant_id, Document.extracted_text != "")
    ).all()
    model = filing.train(
        [t for t, _, _ in filed], [c for _, c, _ in filed], [d or "" for _, _, d in filed]
    )
    session.rollback()  # the read ends; training took a while
    if model is None:
        return row
    with transaction(session):
        row = session.scalar(select(FilingModel).where(FilingModel.tenant_id == tenant_id))
        if row is None:
            row = FilingModel(tenant_id=tenant_id)
            session.add(row)
        row.model, row.trained_at = filing.dump(model), utcnow()
        row.documents, row.last_document_id = count, newest
        row.note = f"{len(filed)} documents, {len(model.classes)} cases, {model.seconds:.1f} s"
    log.info("filing model of tenant %s trained: %s", tenant_id, row.note)
    return row
