"""R2 and R20 under concurrency: several processes at once never duplicate a file reference
and never fork the audit chain (SQLite and PostgreSQL)."""

import multiprocessing

import pytest
from sqlalchemy import func, select

from eakte.db import make_engine, make_session_factory
from eakte.models import AuditEvent, Case, User
from eakte.services import cases
from eakte.verify import VerifyContext, check_audit_chain

WORKERS, PER_WORKER = 4, 15


def _create_cases(url: str, clerk_id: int, barrier, out):
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    refs = []
    with sessions() as s:
        clerk = s.get(User, clerk_id)
        barrier.wait()
        for i in range(PER_WORKER):
            refs.append(
                cases.create_case(s, clerk, "32.10.05", f"Akte {i}", year=2026).file_reference
            )
    out.put(refs)
    engine.dispose()


@pytest.mark.slow
def test_r2_r20_concurrent_writers(world):
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    url = world.rt.settings.database_url
    procs = [
        ctx.Process(target=_create_cases, args=(url, world.clerk.id, barrier, out))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    refs = [ref for _ in procs for ref in out.get(timeout=240)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(refs) == len(set(refs)) == WORKERS * PER_WORKER
    expected = {f"32.10.05-{n:04d}/2026" for n in range(1, WORKERS * PER_WORKER + 1)}
    assert set(refs) == expected
    with world.session() as s:
        assert s.scalar(select(func.count(Case.id))) == WORKERS * PER_WORKER
        assert list(check_audit_chain(VerifyContext(s, world.rt.store), {})) == []
        creates = s.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "create", AuditEvent.object_type == "case"
            )
        )
        assert creates == WORKERS * PER_WORKER
