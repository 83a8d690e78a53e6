"""R20 (issue 13): a disposal run ends with an anchor of the audit trail in the bucket, so
what it recorded (what was destroyed, by whom) cannot be rewritten unnoticed afterwards."""

from datetime import date

from sqlalchemy import select

from eakte.audit_anchors import PREFIX, Anchor, AnchorPolicy
from eakte.models import AuditAnchor, AuditHead
from retention.execution import execute_request


def test_r20_disposal_run_anchors_the_audit_trail(records, world, settings):
    case = records.case("Gewerbe Anker", closed_on=date(2010, 6, 1))
    request = records.approved(case.id)
    with world.session() as s:
        report = execute_request(
            s,
            world.officer,
            records.store,
            request.id,
            data_dir=settings.data_dir,
            anchors=AnchorPolicy(retain_years=1),
        )
        assert report.completed
        head = s.scalar(select(AuditHead))
        row = s.scalar(select(AuditAnchor))
    assert row.reason == "disposal" and row.last_id == head.last_id
    [anchor] = [Anchor.from_key(i.key) for i in records.store.list(prefix=PREFIX)]
    assert (anchor.last_id, anchor.last_hash) == (head.last_id, head.last_hash)
