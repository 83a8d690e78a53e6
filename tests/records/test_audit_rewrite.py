"""R20, issue 13 finding 5: a consistent rewrite of the audit chain — triggers dropped, an
entry edited, every later hash and the head recomputed — is detected by ``eakte verify``
through the anchors in the bucket (the chain alone cannot show it)."""

from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from eakte import audit
from eakte.audit import check_chain, entry_hash
from eakte.cli import main
from eakte.errors import ExitCode
from eakte.models import AuditEvent, AuditHead
from tests.records.test_audit import _drop_append_only_guard


def rewrite_chain(world, first_id: int, **changes) -> None:
    """The insider's attack: drop the triggers, edit an entry, recompute every later hash and
    the head, and delete the anchors the database knows of."""
    _drop_append_only_guard(world)
    with world.session() as s, s.begin():
        prev_hash = s.scalar(select(AuditEvent.hash).where(AuditEvent.id == first_id - 1))
        for event in s.scalars(
            select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)
        ):
            for name, value in changes.items():
                if event.id == first_id:
                    setattr(event, name, value)
            event.prev_hash = prev_hash
            event.hash = prev_hash = entry_hash(event)
        s.get(AuditHead, audit.HEAD_ID).last_hash = prev_hash
        if "audit_anchor" in inspect(s.connection()).get_table_names():
            s.execute(text("DELETE FROM audit_anchor"))
    with world.session() as s:
        assert list(check_chain(s)) == []  # the chain alone no longer shows anything


def test_r20_consistent_rewrite_of_the_chain_is_detected_by_verify(world, env):
    cli = CliRunner()
    first = cli.invoke(main, ["verify"])
    assert first.exit_code == 0, first.output
    rewrite_chain(world, 3, username="mallory")
    second = cli.invoke(main, ["verify"])
    assert second.exit_code == ExitCode.verify_failed, second.output
    line = next(x for x in second.output.splitlines() if x.startswith("audit anchors:"))
    assert "audit-anchors/" in line and "rewritten or removed" in line
