"""Issue 8 item 5: one log line per event, JSON when configured, each with a request or job id."""

from __future__ import annotations

import dataclasses
import json
import logging
import re

import pytest
from huey import MemoryHuey

from eakte import logs
from eakte.jobs.queue import log_job_ids
from eakte.runtime import Runtime
from storage.blobstore import BlobStore
from tests.ops.conftest import dead_s3
from web import create_app

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def log_output(settings, capsys):
    """``log_output(fmt)`` configures logging as the commands do; returns a reader of lines."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def configure(fmt: str):
        logs.configure(dataclasses.replace(settings, log_format=fmt))

        def lines() -> list[str]:
            return [line for line in capsys.readouterr().err.splitlines() if line]

        return lines

    yield configure
    root.handlers[:], level = saved
    root.setLevel(level)


def _json(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_request_id_taken_from_a_sane_header_and_on_every_json_line(rt, log_output):
    read = log_output("json")
    store = BlobStore(**_dead_store_args(rt))
    app = create_app(Runtime(rt.settings, rt.engine, rt.sessions, store), {"TESTING": True})
    response = app.test_client().get("/readyz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert response.status_code == 503
    assert response.headers["X-Request-ID"] == "lb-7f3a.42"
    entries = _json(read())
    mine = [e for e in entries if e.get("request_id") == "lb-7f3a.42"]
    # The probe's warning (logged in a probe thread) and the access line, both with the id.
    assert any(e["level"] == "WARNING" and "storage not ready" in e["message"] for e in mine)
    access = [e for e in mine if e["logger"] == "eakte.web.access"]
    assert [e["message"].split()[:3] for e in access] == [["GET", "/readyz", "503"]]


def _dead_store_args(rt):
    s3 = dead_s3(rt.settings)
    return {
        "endpoint": s3.endpoint,
        "access_key": s3.access_key,
        "secret_key": s3.secret_key,
        "bucket": s3.bucket,
    }


@pytest.mark.parametrize(
    "incoming", [None, "", "two words", 'x"} {"forged": 1', "ä" * 8, "a" * 200]
)
def test_bad_input_request_id_replaced_by_a_new_one(client, log_output, incoming):
    read = log_output("json")
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    response = client.get("/healthz", headers=headers)
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (access,) = [e for e in _json(read()) if e["logger"] == "eakte.web.access"]
    assert access["request_id"] == request_id


def test_each_request_gets_its_own_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second
    assert logs.request_id.get() is None  # nothing leaks out of a finished request


def test_job_id_on_every_line_a_task_logs(log_output):
    read = log_output("json")
    queue = MemoryHuey("log-test", utc=True)
    log_job_ids(queue)

    @queue.task()
    def noisy():
        logging.getLogger("eakte.test").info("working")
        return logs.job_id.get()

    result = noisy()
    queue.execute(queue.dequeue())
    assert result.get() == result.id
    entries = _json(read())
    working = [e for e in entries if e["message"] == "working"]
    assert [e["job_id"] for e in working] == [result.id]
    assert logs.job_id.get() is None  # cleared after the task


def test_text_format_keeps_one_line_per_event_with_the_ids(client, log_output):
    read = log_output("text")
    token = logs.job_id.set("job-1")
    try:
        try:
            raise ValueError("first line\nsecond line")
        except ValueError:
            logging.getLogger("eakte.test").exception("it failed")
    finally:
        logs.job_id.reset(token)
    client.get("/healthz", headers={"X-Request-ID": "req-9"})
    lines = read()
    failed = [line for line in lines if "it failed" in line]
    assert len(failed) == 1
    assert "[job=job-1]" in failed[0] and "Traceback" in failed[0] and "second line" in failed[0]
    assert any("[request=req-9]" in line and "GET /healthz 200" in line for line in lines)
