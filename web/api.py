"""The JSON API under /api/v1: bearer tokens with scopes; errors as JSON with a code.

Handlers only translate HTTP to service calls; the token's user is the actor, so every
permission and audit rule of the UI applies, narrowed further by the token's scopes.
"""

from __future__ import annotations

import functools
import json

from flask import Blueprint, g, jsonify, request, send_file

from eakte import audit
from eakte.errors import BadInput, NotSignedIn, PermissionDenied, UnsupportedType
from eakte.ingest import names
from eakte.models import Case, Document, FileVersion
from eakte.models.api import Scope
from eakte.services import (
    api_tokens,
    cases,
    documents,
    listing,
    mail,
    page_quality,
    scanning,
    suggestions,
)
from eakte.services.applications import deliver_application
from eakte.services.fields import field_json
from eakte.services.search import SORTS, search
from eakte.services.signatures import signature_json, signatures_of
from web.db import db, runtime
from web.extensions import csrf
from web.openapi import openapi_document
from web.params import choice_arg, int_arg, page_arg

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies: the bearer token is the credential


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise NotSignedIn("missing bearer token")
    token = api_tokens.authenticate_token(db(), header.removeprefix("Bearer ").strip())
    g.api_token, g.api_user = token, token.user
    db().info[audit.ORIGIN] = api_tokens.origin(token)  # entries name the token
    return None


def scoped(scope: Scope):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if scope not in g.api_token.scope_set:
                raise PermissionDenied(f"token {g.api_token.prefix} lacks scope {scope}")
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/cases/<uuid:case_id>")
@scoped(Scope.read)
def get_case(case_id):
    case = cases.get_case(db(), g.api_user, str(case_id))
    return jsonify(case_json(case))


@bp.get("/documents/<uuid:document_id>")
@scoped(Scope.read)
def get_document(document_id):
    document = documents.get_document(db(), g.api_user, str(document_id))
    return jsonify(document_json(document, mail.links(db(), g.api_user, document)))


@bp.get("/documents/<uuid:document_id>/suggestions")
@scoped(Scope.read)
def get_suggestions(document_id):
    """Issue 18: the same suggestions as the document page and ``eakte suggest``."""
    fields = suggestions.metadata_of(db(), g.api_user, str(document_id))
    found = suggestions.filing_for(db(), g.api_user, str(document_id))
    return jsonify(metadata=[f.as_dict() for f in fields], filing=found.as_dict())


@bp.get("/batches/<uuid:batch_id>/quality")
@scoped(Scope.read)
def get_batch_quality(batch_id):
    """Issue 18: the same as the batch check page and ``eakte batch show``."""
    summary = scanning.batch_summary(db(), g.api_user, str(batch_id))
    return jsonify(
        batch=summary.batch.name,
        qc_status=summary.batch.qc_status,
        quality=page_quality.summary(db(), summary.batch).as_dict(),
        pages=[p.as_dict() for p in page_quality.batch_pages(db(), summary.batch)],
    )


@bp.get("/versions/<uuid:version_id>/content")
@scoped(Scope.download)
def download(version_id):
    version, stream = documents.open_version(db(), g.api_user, runtime().store, str(version_id))
    response = send_file(
        stream,
        mimetype=version.mime,
        as_attachment=True,
        download_name=names.sanitise(version.filename or str(version.uuid)),
        max_age=0,
    )
    response.headers["X-Content-SHA256"] = version.sha256
    return response


@bp.post("/intake")
@scoped(Scope.intake)
def intake_application():
    """An application from a portal: metadata (JSON) plus files; creates or fills a case."""
    try:
        meta = json.loads(request.form.get("metadata") or "{}")
    except ValueError:
        raise BadInput("metadata is not valid JSON") from None
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not isinstance(meta, dict) or not files:
        raise BadInput("an intake needs a metadata object and at least one file")
    result = deliver_application(
        db(),
        g.api_user,
        runtime().store,
        runtime().settings,
        meta,
        [(f.filename, f.stream) for f in files],
        source=f"api:{g.api_token.uuid}",
        enqueue=runtime().jobs.enqueue,
    )
    status = 200 if result.existing else 201
    unsupported = [d for d in result.documents if d["reason"] == "type_not_allowed"]
    if unsupported and len(unsupported) == len(result.documents):
        raise UnsupportedType(f"unsupported file type: {unsupported[0]['filename']}")
    return jsonify(
        case=case_json(result.case),
        process=str(result.process.uuid),
        documents=result.documents,
    ), status


@bp.post("/ozg")
@scoped(Scope.intake)
def deliver_ozg_package():
    """An OZG application package: where it goes is the tenant's mapping of its service key."""
    from eakte.services import ozg

    data = request.files.get("data")
    if data is None:
        raise BadInput("an OZG package needs its structured data (data: JSON or XML)")
    raw = data.stream.read(ozg.MAX_DATA_BYTES + 1)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    package = ozg.deliver_package(
        db(),
        g.api_user,
        runtime().store,
        runtime().settings,
        service_key=request.form.get("service_key", "").strip(),
        data=raw,
        data_name=data.filename or "",
        files=[(f.filename, f.stream) for f in files],
        external_id=request.form.get("external_id", "").strip(),
        applicant=request.form.get("applicant", "").strip()[:300],
        source=f"api:{g.api_token.uuid}",
        enqueue=runtime().jobs.enqueue,
    )
    return jsonify(
        mode=package.mode,
        case=package.case_reference,
        process=package.process_uuid,
        documents=package.documents,
    ), (200 if package.existing else 201)


@bp.get("/search")
@scoped(Scope.search)
def search_records():
    text = request.args.get("q", "")
    result = search(
        db(),
        g.api_user,
        runtime().search,
        text,
        advanced=request.args.get("advanced") == "1",
        page=page_arg("page"),
        per_page=int_arg("per_page", 20, 1, 100),
        sort=choice_arg("sort", SORTS, "relevance"),
    )
    uuids = listing.uuids_for_hits(db(), g.api_user, result.hits)
    return jsonify(
        total=result.total,
        page=result.page,
        suggestion=result.suggestion,
        hits=[
            {
                "kind": hit.kind,
                "uuid": uuids.get((hit.kind, hit.id)),
                "title": hit.title,
                "file_reference": hit.file_reference,
                "snippet_html": hit.snippet_html,
                "date": hit.date.isoformat() if hit.date else None,
            }
            for hit in result.hits
        ],
        facets={
            name: [{"value": c.value, "count": c.count} for c in counts]
            for name, counts in result.facets.items()
        },
    )


def case_json(case: Case) -> dict:
    return {
        "uuid": str(case.uuid),
        "file_reference": case.file_reference,
        "title": case.title,
        "status": case.status,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "retention_end": case.retention_end.isoformat() if case.retention_end else None,
        "file_plan": {"code": case.node.code, "title": case.node.title},
        "processes": [
            {
                "uuid": str(p.uuid),
                "number": p.number,
                "title": p.title,
                "status": p.status,
                "documents": [
                    {"uuid": str(d.uuid), "title": d.title, "status": d.status}
                    for d in listing.documents_of_process(db(), g.api_user, p)
                ],
            }
            for p in case.processes
        ],
    }


def document_json(document: Document, mail_links: mail.MailLinks | None = None) -> dict:
    process = document.process
    return {
        **(mail.links_json(mail_links) if mail_links is not None else {}),
        "uuid": str(document.uuid),
        "title": document.title,
        "doc_type": document.doc_type,
        "correspondent": document.correspondent,
        "received_date": document.received_date.isoformat() if document.received_date else None,
        "status": document.status,
        "page_count": document.page_count,
        "sha256": document.sha256,
        "case": str(process.case.uuid) if process else None,
        "process": str(process.uuid) if process else None,
        "versions": [version_json(v) for v in document.versions],
        "signatures": [signature_json(s) for s in signatures_of(document)],
        # a backref made in eakte.models.fields (so the records model stays untouched)
        "fields": [field_json(f) for f in document.fields],  # type: ignore[attr-defined]
    }


def version_json(version: FileVersion) -> dict:
    return {
        "uuid": str(version.uuid),
        "kind": version.kind,
        "filename": version.filename,
        "mime": version.mime,
        "size": version.size,
        "sha256": version.sha256,
    }


# The clerk's daily work (issue 16) registers its operations on this blueprint.
from web import api_workflow  # noqa: E402, F401
