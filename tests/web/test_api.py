"""The JSON API: bearer tokens with scopes, JSON errors, the OpenAPI document, downloads."""

import pytest
from openapi_spec_validator import validate

from eakte.models.api import Scope
from eakte.services import accounts, api_tokens, cases, documents
from web.openapi import PATHS


@pytest.fixture
def token(world):
    def make(scopes=frozenset(Scope), username="sachb"):
        with world.session() as s:
            user = accounts.find_user(s, world.tenant, username)
            _, plain = api_tokens.create_token(s, user, "Portal", set(scopes))
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def filed(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Online")
        process = cases.add_process(s, world.clerk, case.id, "Antrag")
    doc = world.inbox_document("Antrag online", data=b"%PDF-1.4 antrag")
    with world.session() as s:
        documents.file_document(s, world.clerk, doc.id, process.id)
        version = documents.get_document(s, world.clerk, doc.id).versions[0]
    return case, doc, version


def test_openapi_document_is_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.get_json())


def test_every_operation_is_exercised():
    """Each operation in the document has a test (by operationId) in the web test modules."""
    from pathlib import Path

    source = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for path in PATHS.values():
        for operation in path.values():
            assert f"operation: {operation['operationId']}" in source


def test_missing_or_bad_token_is_401_json(client, filed):
    case, _, _ = filed
    for headers in ({}, {"Authorization": "Bearer eak_nonsense"}, {"Authorization": "Basic x"}):
        response = client.get(f"/api/v1/cases/{case.uuid}", headers=headers)
        assert response.status_code in (401, 404)
        assert set(response.get_json()["error"]) == {"code", "message"}


def test_get_case(client, token, filed):
    """operation: getCase"""
    case, doc, _ = filed
    response = client.get(f"/api/v1/cases/{case.uuid}", headers=token())
    assert response.status_code == 200
    body = response.get_json()
    assert body["file_reference"] == case.file_reference
    assert body["processes"][0]["documents"][0]["uuid"] == str(doc.uuid)


def test_get_document(client, token, filed):
    """operation: getDocument"""
    _, doc, version = filed
    body = client.get(f"/api/v1/documents/{doc.uuid}", headers=token()).get_json()
    assert body["title"] == "Antrag online" and body["versions"][0]["uuid"] == str(version.uuid)


def test_download_version(client, token, filed):
    """operation: downloadVersion"""
    _, _, version = filed
    response = client.get(f"/api/v1/versions/{version.uuid}/content", headers=token())
    assert response.status_code == 200 and response.data == b"%PDF-1.4 antrag"
    assert response.headers["X-Content-SHA256"] == version.sha256


def test_scopes_narrow_the_token(client, token, filed):
    case, _, version = filed
    read_only = token({Scope.read})
    assert client.get(f"/api/v1/cases/{case.uuid}", headers=read_only).status_code == 200
    response = client.get(f"/api/v1/versions/{version.uuid}/content", headers=read_only)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "permission_denied"


def test_token_acts_with_its_users_permissions(client, token, filed):
    case, _, _ = filed
    other_unit = token(username="bau")
    response = client.get(f"/api/v1/cases/{case.uuid}", headers=other_unit)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_revoked_token_refused(world, client, filed):
    case, _, _ = filed
    with world.session() as s:
        created, plain = api_tokens.create_token(s, world.clerk, "Alt", {Scope.read})
        api_tokens.revoke_token(s, world.admin, str(created.uuid))
    response = client.get(
        f"/api/v1/cases/{case.uuid}", headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 404


def test_api_ignores_session_cookies(sign_in, filed):
    case, _, _ = filed
    browser = sign_in("sachb")
    assert browser.get(f"/api/v1/cases/{case.uuid}").status_code == 401


def test_unknown_api_route_is_json(client, token):
    response = client.get("/api/v1/nothing-here", headers=token())
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def _application(external_id="portal-4711", files=None):
    import io
    import json

    meta = {
        "external_id": external_id,
        "case": {"file_plan": "32.10.05", "title": "Gewerbeanmeldung Online-Shop Weber"},
        "process": {"title": "Antrag über das Serviceportal"},
        "documents": [{"title": "Antrag", "doc_type": "Antrag", "received_date": "2026-11-20"}],
    }
    from tests.web.test_upload import PDF as pdf

    return {
        "metadata": json.dumps(meta),
        "files": files or [(io.BytesIO(pdf), "antrag.pdf")],
    }


def test_intake_application(client, token, world):
    """operation: intakeApplication"""
    headers = token({Scope.intake, Scope.read})
    response = client.post(
        "/api/v1/intake", data=_application(), headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["case"]["file_reference"].startswith("32.10.05-0001/")
    assert body["documents"][0]["outcome"] == "accepted"
    again = client.post(
        "/api/v1/intake", data=_application(), headers=headers, content_type="multipart/form-data"
    )
    assert again.status_code == 200
    assert again.get_json()["case"]["uuid"] == body["case"]["uuid"]
    with world.session() as s:
        from sqlalchemy import func, select

        from eakte.models import Case

        assert s.scalar(select(func.count(Case.id))) == 1


def test_intake_unsupported_type_is_415(client, token):
    import io

    data = _application(
        "portal-exe", files=[(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "antrag.pdf")]
    )
    response = client.post(
        "/api/v1/intake",
        data=data,
        headers=token({Scope.intake}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_type"


def test_intake_too_large_is_413(app, client, token):
    import io

    app.config["MAX_CONTENT_LENGTH"] = 10_000
    data = _application(
        "portal-big", files=[(io.BytesIO(b"%PDF-1.4" + b"0" * 20_000), "gross.pdf")]
    )
    response = client.post(
        "/api/v1/intake",
        data=data,
        headers=token({Scope.intake}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_intake_needs_scope(client, token):
    response = client.post(
        "/api/v1/intake",
        data=_application(),
        headers=token({Scope.read}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
