"""Scanning staff in the web UI: import a batch, its progress, quality check, quarantine."""

import io
import re

import pytest

from tests.fixtures.app import csrf_token
from tests.ingest.conftest import scan_image, scanned_pdf


@pytest.mark.parametrize("path", ["/scanstelle/", "/scanstelle/quarantaene"])
def test_scanning_pages_by_role(world, sign_in, path):
    assert sign_in("scan").get(path).status_code == 200
    assert sign_in("sachb").get(path).status_code == 200  # clerks take in documents too
    assert sign_in("registratur").get(path).status_code == 403
    assert sign_in("admin").get(path).status_code == 403


def test_import_batch_progress_and_quarantine(world, sign_in):
    client = sign_in("scan")
    page = client.get("/scanstelle/").get_data(as_text=True)
    response = client.post(
        "/scanstelle/",
        data={
            "batch-csrf_token": csrf_token(page),
            "batch-name": "Posteingang 2026-11-22",
            "batch-device": "Fujitsu fi-7160",
            "batch-dpi": "300",
            "batch-colour_mode": "gray",
            "batch-inbox": "32",
            "batch-files": [
                (io.BytesIO(scanned_pdf([scan_image()])), "brief-1.pdf"),  # waits for OCR
                (io.BytesIO(b"MZ" + b"\0" * 64), "virus.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    html = client.get(batch_url).get_data(as_text=True)
    assert "Fujitsu fi-7160" in html and "300 dpi" in html
    progress = client.get(batch_url + ".json").get_json()
    assert progress["total"] == 2 and progress["quarantined"] == 1
    assert progress["waiting"] == 1 and not progress["complete"]
    quarantine = client.get("/scanstelle/quarantaene").get_data(as_text=True)
    assert "virus.pdf" in quarantine and "Dieser Dateityp wird nicht angenommen." in quarantine
    entry = re.search(r"/scanstelle/quarantaene/([0-9a-f-]{36})/erledigt", quarantine).group(1)
    client.post(
        f"/scanstelle/quarantaene/{entry}/erledigt",
        data={
            "resolve-csrf_token": csrf_token(quarantine),
            "resolve-reason": "Absender um PDF gebeten",
        },
    )
    assert "virus.pdf" not in client.get("/scanstelle/quarantaene").get_data(as_text=True)
    # the quality check waits until every document is processed (R17)
    refused = client.post(batch_url + "/qk-bestanden", data={"csrf_token": csrf_token(html)})
    assert refused.status_code == 409
