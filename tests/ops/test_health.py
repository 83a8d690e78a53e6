"""Issue 8 items 3 and 4: /healthz, /readyz and /metrics against the real servers."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import FileStorage

from eakte import metrics
from eakte.runtime import Runtime
from storage.blobstore import BlobStore
from tests.ops.conftest import dead_s3, free_port
from web import create_app

TOKEN = "a-metrics-token-of-some-length"
# Where the kind of database does not matter, once is enough.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _app(rt: Runtime, **changes):
    """An app on ``rt`` with changed settings (a dead S3 endpoint, a Redis queue, ...)."""
    settings = dataclasses.replace(rt.settings, **changes)
    store = rt.store
    if "s3" in changes:
        s3 = settings.s3
        store = BlobStore(s3.endpoint, s3.access_key, s3.secret_key, s3.bucket)
    return create_app(Runtime(settings, rt.engine, rt.sessions, store), {"TESTING": True})


def _samples(body: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


@sqlite_only
def test_healthz_says_alive_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}


def test_readyz_reports_each_part_ready_with_latency(client):
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "storage", "queue", "index"}
    for name, check in body["checks"].items():
        assert check["latency_ms"] >= 0, name
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["storage"]["status"] == "ok"
    assert body["checks"]["queue"]["status"] == "ok"
    # No index run yet: the index directory does not exist, which is not a failure.
    index = body["checks"]["index"]
    assert (index["status"], index["documents"]) == ("empty", 0)


@sqlite_only
def test_readyz_opens_an_existing_index(rt, client):
    index_dir = rt.settings.data_dir / "index"
    index_dir.mkdir(parents=True)
    index = FileStorage(str(index_dir)).create_index(Schema(key=ID(stored=True)), "docs")
    with index.writer() as writer:
        writer.add_document(key="1")
        writer.add_document(key="2")
    check = client.get("/readyz").get_json()["checks"]["index"]
    assert (check["status"], check["documents"]) == ("ok", 2)


@sqlite_only
def test_readyz_503_when_the_index_is_damaged(rt, client):
    index_dir = rt.settings.data_dir / "index"
    index_dir.mkdir(parents=True)
    (index_dir / "_MAIN_1.toc").write_bytes(b"not a table of contents")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["index"]["status"] == "error"


def test_readyz_503_when_s3_is_down(rt):
    client = _app(rt, s3=dead_s3(rt.settings)).test_client()
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["status"] == "not ready"
    assert body["checks"]["storage"] == {
        "status": "error",
        "error": "StorageUnavailable",
        "latency_ms": body["checks"]["storage"]["latency_ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"


@sqlite_only
def test_readyz_503_when_the_queue_is_down(rt):
    client = _app(rt, redis_url=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    queue = response.get_json()["checks"]["queue"]
    assert queue["status"] == "error" and queue["error"].endswith("Error")


def test_readyz_503_when_the_schema_is_behind(rt, client):
    from sqlalchemy import text

    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"]["error"] == "schema not current"


def test_metrics_show_documents_by_status_queue_depth_and_counters(world, client):
    world.inbox_document("Eins")
    world.inbox_document("Zwei")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = _samples(response.get_data(as_text=True))
    assert samples[("eakte_documents", (("status", "received"),))] == 2
    assert samples[("eakte_queue_pending", ())] >= 0
    # Listed before anything was counted (that production code counts: test_metrics_counted).
    assert ("eakte_ocr_pages_total", ()) in samples
    assert ("eakte_disposal_runs_total", (("outcome", "ok"),)) in samples
    assert ("eakte_disposal_runs_total", (("outcome", "failed"),)) in samples
    assert any(name == "eakte_search_duration_seconds_bucket" for name, _ in samples)


@sqlite_only
def test_metrics_counters_of_other_processes_are_added_up(client):
    """Jobs count in worker processes; the web process must report their counts too."""
    assert metrics.multiprocess(), "tests/conftest.py chooses the multiprocess mode"
    import subprocess
    import sys

    before = _samples(client.get("/metrics").get_data(as_text=True))
    subprocess.run(
        [sys.executable, "-c", "from eakte import metrics; metrics.counters().ocr_pages.inc(5)"],
        check=True,
        timeout=60,
    )
    after = _samples(client.get("/metrics").get_data(as_text=True))
    key = ("eakte_ocr_pages_total", ())
    assert after[key] - before.get(key, 0) == 5


@sqlite_only
def test_metrics_need_the_token_when_one_is_configured(rt, monkeypatch):
    monkeypatch.setenv("EAKTE_METRICS_TOKEN", TOKEN)
    client = _app(rt).test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    remote = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert remote.status_code == 200
    assert b"eakte_documents" in remote.data


@sqlite_only
def test_metrics_without_token_answer_loopback_clients_only(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    # Through a proxy on the same host every client looks local: forwarded means remote.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


@sqlite_only
def test_bad_input_short_metrics_token_stops_the_app(rt, monkeypatch):
    from eakte.errors import ConfigError

    monkeypatch.setenv("EAKTE_METRICS_TOKEN", "short")
    with pytest.raises(ConfigError, match="EAKTE_METRICS_TOKEN"):
        _app(rt)


@sqlite_only
def test_s3_errors_at_the_web_edge_are_counted(world, rt):
    document = world.inbox_document("Bescheid")
    version_uuid = document.versions[0].uuid
    app = _app(rt, s3=dead_s3(rt.settings))
    client = app.test_client()
    from tests.fixtures.app import PASSWORD, csrf_token

    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={"csrf_token": token, "tenant": "default", "username": "sachb", "password": PASSWORD},
    )
    key = ("eakte_storage_errors_total", (("error", "StorageUnavailable"),))
    before = _samples(client.get("/metrics").get_data(as_text=True)).get(key, 0)
    response = client.get(f"/dokumente/version/{version_uuid}")
    assert response.status_code == 503
    after = _samples(client.get("/metrics").get_data(as_text=True))[key]
    assert after - before == 1
