"""Records officers in the web UI: disposal list, four-eyes requests, holds, certificates."""

import re

import pytest

from retention.execution import execute_request
from tests.fixtures.app import csrf_token


@pytest.mark.parametrize(
    "path",
    [
        "/aussonderung/",
        "/aussonderung/antraege",
        "/aussonderung/sperren",
        "/aussonderung/zertifikate",
        "/aussonderung/liste.csv",
    ],
)
def test_disposal_pages_only_for_records_officers(world, sign_in, path):
    assert sign_in("registratur").get(path).status_code == 200
    for username in ("sachb", "admin", "scan"):
        assert sign_in(username).get(path).status_code == 403, username


def test_propose_approve_execute_certificate(world, sign_in, due_case):
    officer = sign_in("registratur")
    listing = officer.get("/aussonderung/").get_data(as_text=True)
    assert due_case.file_reference in listing and "1 Akten fällig" in listing
    response = officer.post(
        "/aussonderung/vorschlag",
        data={"csrf_token": csrf_token(listing), "case": [str(due_case.uuid)], "note": "2026"},
    )
    request_url = response.headers["Location"]
    page = officer.get(request_url).get_data(as_text=True)
    assert "vorgeschlagen" in page
    # the proposer cannot approve their own request (four eyes, R9)
    own = officer.post(request_url + "/genehmigen", data={"csrf_token": csrf_token(page)})
    assert own.status_code == 403
    second = sign_in("registratur2")
    page = second.get(request_url).get_data(as_text=True)
    assert (
        second.post(request_url + "/genehmigen", data={"csrf_token": csrf_token(page)}).status_code
        == 302
    )
    request_uuid = request_url.rsplit("/", 1)[1]
    with world.session() as s:
        from retention.disposal import get_request

        found = get_request(s, world.officer2, request_uuid)
        report = execute_request(
            s, world.officer2, world.rt.store, found.id, data_dir=world.rt.settings.data_dir
        )
    assert report.completed
    certificates = second.get("/aussonderung/zertifikate").get_data(as_text=True)
    assert due_case.file_reference in certificates
    pdf_url = re.search(r'href="(/aussonderung/zertifikate/[0-9a-f-]+\.pdf)"', certificates)
    pdf = second.get(pdf_url.group(1))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    tombstone = second.get(f"/akten/{due_case.uuid}").get_data(as_text=True)
    assert "vernichtet" in tombstone  # the metadata stays, as on the certificate


def test_legal_hold_page_places_and_releases(world, sign_in, due_case):
    officer = sign_in("registratur")
    page = officer.get("/aussonderung/sperren").get_data(as_text=True)
    officer.post(
        "/aussonderung/sperren",
        data={
            "hold-csrf_token": csrf_token(page),
            "hold-target_type": "case",
            "hold-target": due_case.file_reference,
            "hold-reason": "Klage VG Frankfurt",
            "hold-authority": "Rechtsamt, Az. 30-123",
        },
    )
    page = officer.get("/aussonderung/sperren").get_data(as_text=True)
    assert "Klage VG Frankfurt" in page
    listing = officer.get("/aussonderung/").get_data(as_text=True)
    assert "Aufbewahrungssperre" in listing  # held cases cannot be selected
    hold_uuid = re.search(r"/aussonderung/sperren/([0-9a-f-]{36})/aufheben", page).group(1)
    officer.post(
        f"/aussonderung/sperren/{hold_uuid}/aufheben",
        data={"release-csrf_token": csrf_token(page), "release-reason": "Urteil"},
    )
    assert "Klage VG Frankfurt" not in officer.get("/aussonderung/sperren").get_data(as_text=True)
