"""R20: the audit chain's head anchored as locked objects in the bucket, checked by verify;
optional RFC 3161 timestamps from a TSA (issue 13, finding 5)."""

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from eakte import audit
from eakte.audit import check_chain
from eakte.audit_anchors import (
    PREFIX,
    Anchor,
    AnchorPolicy,
    anchor_if_moved,
    check_anchors,
    write_anchor,
)
from eakte.config import Settings
from eakte.errors import ConfigError
from eakte.models import AuditAnchor, AuditEvent, AuditHead
from storage.errors import ObjectLocked
from tests.records.test_audit import _drop_append_only_guard
from tests.records.test_audit_rewrite import rewrite_chain

POLICY = AnchorPolicy(retain_years=1)


def _problems(world, policy=POLICY, counts=None):
    with world.session() as s:
        found = check_anchors(s, world.rt.store, policy, {} if counts is None else counts)
        return [(p.subject, p.problem) for p in found]


def _anchor(world, policy=POLICY):
    with world.session() as s:
        return write_anchor(s, world.rt.store, policy, "test")


def test_r20_verify_names_the_first_anchor_that_no_longer_matches(world):
    with world.session() as s:
        first_id = s.scalar(select(AuditHead.last_id))
    before = _anchor(world)
    with world.session() as s:
        audit.record(s, world.admin, "test_entry")
        s.commit()
    _anchor(world)
    assert _problems(world) == []
    rewrite_chain(world, first_id - 1, details='{"note":"forged"}')
    problems = _problems(world)
    assert len(problems) == 1
    subject, problem = problems[0]
    assert subject == before.key
    assert f"entry {first_id} has hash" in problem and "1 later anchor(s)" in problem


def test_r20_entries_after_the_last_anchor_are_the_open_window(world):
    """What the README says: a rewrite after the newest anchor is not seen by the anchors."""
    _anchor(world)
    with world.session() as s:
        audit.record(s, world.admin, "after_the_anchor")
        s.commit()
        last = s.scalar(select(AuditHead.last_id))
    rewrite_chain(world, last, username="mallory")
    assert _problems(world) == []


def test_r20_truncated_chain_detected_by_anchor(world):
    anchor = _anchor(world)
    _drop_append_only_guard(world)
    with world.session() as s, s.begin():
        s.execute(text("DELETE FROM audit_event WHERE id > :id"), {"id": anchor.last_id - 2})
        kept = s.get(AuditEvent, anchor.last_id - 2)
        head = s.get(AuditHead, audit.HEAD_ID)
        head.last_id, head.last_hash = kept.id, kept.hash
    with world.session() as s:
        assert list(check_chain(s)) == []
    [(subject, problem)] = _problems(world)
    assert subject == anchor.key and f"entry {anchor.last_id} is missing" in problem


def test_r20_anchor_is_a_locked_object_with_the_head(world):
    anchor = _anchor(world)
    with world.session() as s:
        head = s.get(AuditHead, audit.HEAD_ID)
        assert (anchor.last_id, anchor.last_hash) == (head.last_id, head.last_hash)
        row = s.scalar(select(AuditAnchor))
        assert row.key == anchor.key and row.reason == "test"
    store = world.rt.store
    info = store.stat(anchor.key)
    assert info.retain_until >= anchor.at + timedelta(days=365)
    with store.open(anchor.key) as reader:
        assert json.loads(reader.read()) == {
            "at": anchor.key[len(PREFIX) :].split("-")[0],
            "last_hash": head.last_hash,
            "last_id": head.last_id,
        }
    assert Anchor.from_key(anchor.key) == anchor
    with pytest.raises(ObjectLocked):
        store.delete_all_versions(anchor.key)


def test_r20_anchor_kept_at_least_for_the_stores_floor(world):
    # An anchor policy shorter than the store's floor (every version's minimum lock): the
    # anchor is still written, locked for the floor (COMPLIANCE cannot be shortened after).
    with world.session() as s:
        audit.record(s, None, "test")
        s.commit()
        anchor = write_anchor(s, world.rt.store, AnchorPolicy(retain_years=0), "test")
    store = world.rt.store
    assert store.stat(anchor.key).retain_until >= anchor.at + store.min_retention


def test_r20_overwritten_or_hidden_anchor_is_reported(world):
    import io

    store = world.rt.store
    overwritten, hidden = _anchor(world), _anchor(world)
    store.put(overwritten.key, io.BytesIO(b"{}"), 2, "application/json")
    store._client.remove_object(store.bucket, hidden.key)  # a delete marker, as S3 allows
    problems = dict(_problems(world))
    assert "2 versions" in problems[overwritten.key]
    assert "delete marker" in problems[hidden.key]


def test_r20_periodic_anchor_only_when_entries_were_written(world):
    with world.session() as s:
        first = anchor_if_moved(s, world.rt.store, POLICY)
        assert first is not None
        assert anchor_if_moved(s, world.rt.store, POLICY) is None
        audit.record(s, world.admin, "test_entry")
        s.commit()
        second = anchor_if_moved(s, world.rt.store, POLICY)
    assert second is not None and second.last_id == first.last_id + 1
    counts = {}
    assert _problems(world, counts=counts) == []
    assert counts["audit anchors"] == 2


def test_r20_anchor_timestamped_by_tsa_and_checked(world, tsa):
    policy = AnchorPolicy(1, tsa.url, tsa.ca_file)
    anchor = _anchor(world, policy)
    keys = {info.key for info in world.rt.store.list(prefix=PREFIX)}
    assert keys == {anchor.key, anchor.token_key}
    counts = {}
    assert _problems(world, policy, counts) == []
    assert counts["audit anchor timestamps"] == 1
    assert counts["audit anchors without timestamp"] == 0


def test_r20_timestamp_from_another_authority_or_for_other_bytes_is_reported(world, tsa, other_ca):
    import io

    policy = AnchorPolicy(1, tsa.url, tsa.ca_file)
    real = _anchor(world, policy)
    [(subject, problem)] = _problems(world, AnchorPolicy(1, tsa.url, other_ca))
    assert subject == real.token_key and "timestamp not valid" in problem
    # A forged anchor with the real anchor's token beside it: the imprint does not match.
    forged = Anchor(real.at + timedelta(seconds=1), real.last_id, real.last_hash)
    store = world.rt.store
    body = forged.body()
    store.put(forged.key, io.BytesIO(body), len(body), "application/json")
    with store.open(real.token_key) as reader:
        token = reader.read()
    store.put(forged.token_key, io.BytesIO(token), len(token), "application/timestamp-reply")
    [(subject, problem)] = _problems(world, policy)
    assert subject == forged.token_key and "imprint mismatch" in problem


def test_r20_anchor_written_without_timestamp_when_the_tsa_does_not_answer(world, tsa, caplog):
    from tests.ops.conftest import free_port

    policy = AnchorPolicy(1, f"http://127.0.0.1:{free_port()}/tsa", tsa.ca_file)
    with caplog.at_level(logging.WARNING, logger="eakte.audit_anchors"):
        anchor = _anchor(world, policy)
    assert anchor is not None and "has no timestamp" in caplog.text
    counts = {}
    assert _problems(world, policy, counts) == []
    assert counts["audit anchors without timestamp"] == 1


def test_tsa_settings_need_a_ca_file_and_an_http_url(tmp_path):
    with pytest.raises(ConfigError, match="EAKTE_TSA_CA_FILE"):
        Settings.from_env({"EAKTE_TSA_URL": "http://127.0.0.1:1/tsa"})
    with pytest.raises(ConfigError, match="EAKTE_TSA_URL"):
        Settings.from_env({"EAKTE_TSA_URL": "file:///etc/passwd", "EAKTE_TSA_CA_FILE": "x"})
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    settings = Settings.from_env(
        {"EAKTE_TSA_URL": "https://tsa.example/", "EAKTE_TSA_CA_FILE": str(ca)}
    )
    assert (settings.tsa_url, settings.tsa_ca_file) == ("https://tsa.example/", ca)
    assert settings.audit_anchor_years == 30


def test_r20_anchor_job_is_scheduled_every_ten_minutes(rt):
    from datetime import datetime

    task = rt.jobs.periodic["anchor_audit_trail"].task_class()
    due = [m for m in range(60) if task.validate_datetime(datetime(2026, 12, 7, 9, m))]
    assert due == [0, 10, 20, 30, 40, 50]


def test_verify_reports_an_anchor_it_could_not_write(world):
    from eakte.verify import VerifyContext, check_audit_anchors
    from storage.errors import StorageUnavailable
    from tests.retention.conftest import FaultyStore

    def unreachable(*_args):
        raise StorageUnavailable("connection refused")

    store = FaultyStore(world.rt.store, "put", unreachable)
    with world.session() as s:
        findings = list(check_audit_anchors(VerifyContext(s, store, world.rt.settings), {}))
    assert [(f.subject, f.problem) for f in findings] == [
        (PREFIX, "no anchor written: connection refused")
    ]
