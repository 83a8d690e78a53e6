"""Anchors of the audit chain outside the database (R20; issue 13, finding 5).

The hash chain (``eakte.audit``) catches an edited or removed entry, but whoever can write the
database can also drop the triggers, edit an entry and recompute every later hash and the head:
the chain is then consistent again. An anchor records the head (last id, last hash, time) as a
locked object in the bucket, where nobody — not eAkte's own S3 identity either — can change or
delete it before its retention ends. ``check_anchors`` compares every anchor the bucket holds
with the chain: a rewrite of any entry up to an anchored one changes that entry's hash.

Anchors are written at least every ten minutes while entries are written (a periodic job), after
every disposal run and at every ``eakte verify``. Entries after the newest anchor can still be
rewritten unnoticed until the next one: that is the window that stays open.

The key carries everything (``audit-anchors/<time>-<last id>-<last hash>.json``), so verify
needs one listing, not a read per anchor; an object's key cannot change, and a later version or
a delete marker on it is reported. The ``audit_anchor`` table only tells the job whether the
head moved since the last anchor; verify never trusts it. With a TSA configured, each anchor
gets an RFC 3161 token beside it (same name, ``.tsr``).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte.audit import HEAD_ID
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import EakteError, TimestampFailed
from eakte.models import AuditAnchor, AuditEvent, AuditHead
from eakte.models.base import utcnow
from eakte.timestamps import check_token, request_token
from storage.blobstore import BlobStore
from storage.errors import StorageError

log = logging.getLogger(__name__)

PREFIX = "audit-anchors/"
STAMP_SUFFIX = ".tsr"
_KEY_RE = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}\.\d{{6}}Z)-(\d{{12}})-([0-9a-f]{{64}})\.json$")
_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"
# How far a token's time may be from its anchor's: the TSA round trip plus clock skew.
_TOKEN_SKEW = timedelta(minutes=5)
_LOOKUP_BATCH = 1000
_TOKEN_WORKERS = 4


@dataclass(frozen=True)
class AnchorPolicy:
    """How anchors are written: how long they are locked, and the optional TSA."""

    retain_years: int = 30
    tsa_url: str = ""
    tsa_ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AnchorPolicy:
        return cls(settings.audit_anchor_years, settings.tsa_url, settings.tsa_ca_file)


@dataclass(frozen=True)
class Anchor:
    at: datetime
    last_id: int
    last_hash: str

    @property
    def key(self) -> str:
        stamp = self.at.astimezone(UTC).strftime(_TIME_FORMAT)
        return f"{PREFIX}{stamp}-{self.last_id:012d}-{self.last_hash}.json"

    @property
    def token_key(self) -> str:
        return self.key.removesuffix(".json") + STAMP_SUFFIX

    def body(self) -> bytes:
        """The object's bytes (what a TSA timestamps): the key's facts as canonical JSON."""
        facts = {
            "at": self.at.astimezone(UTC).strftime(_TIME_FORMAT),
            "last_hash": self.last_hash,
            "last_id": self.last_id,
        }
        return json.dumps(facts, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_key(cls, key: str) -> Anchor | None:
        match = _KEY_RE.match(key)
        if not match:
            return None
        stamp, last_id, last_hash = match.groups()
        at = datetime.strptime(stamp, _TIME_FORMAT).replace(tzinfo=UTC)
        return cls(at, int(last_id), last_hash)


def write_anchor(
    session: Session, store: BlobStore, policy: AnchorPolicy, reason: str
) -> Anchor | None:
    """Anchor the chain's committed head now (None while the trail is empty)."""
    with transaction(session):
        head = session.scalar(
            select(AuditHead)
            .where(AuditHead.id == HEAD_ID)
            .execution_options(populate_existing=True)
        )
        if head is None or head.last_id == 0:
            return None
        anchor = Anchor(utcnow(), head.last_id, head.last_hash)
    until = anchor.at + timedelta(days=round(365.25 * policy.retain_years))
    put_locked(store, anchor.key, anchor.body(), "application/json", until)
    timestamped = False
    if policy.tsa_url and policy.tsa_ca_file is not None:
        try:
            token = request_token(policy.tsa_url, anchor.body(), policy.tsa_ca_file)
        except TimestampFailed as exc:
            # The locked object is the anchor; the token only adds a third party's time.
            log.warning("audit anchor %s has no timestamp: %s", anchor.key, exc)
        else:
            put_locked(store, anchor.token_key, token, "application/timestamp-reply", until)
            timestamped = True
    with transaction(session):
        session.add(
            AuditAnchor(
                at=anchor.at,
                last_id=anchor.last_id,
                last_hash=anchor.last_hash,
                reason=reason,
                key=anchor.key,
                timestamped=timestamped,
            )
        )
    log.info("audit anchor %s (%s)", anchor.key, reason)
    return anchor


def put_locked(store: BlobStore, key: str, data: bytes, content_type: str, until: datetime) -> None:
    """Store ``data`` as a new object locked until ``until`` (at least the store's floor), in
    the same request: a retain-until set afterwards could only lengthen the floor's lock, and
    one shorter than the floor would be refused."""
    store.put(key, io.BytesIO(data), len(data), content_type, retain_until=until)


def anchor_if_moved(session: Session, store: BlobStore, policy: AnchorPolicy) -> Anchor | None:
    """The periodic anchor: only when entries were written since the last one."""
    with transaction(session):
        head_id = session.scalar(select(AuditHead.last_id).where(AuditHead.id == HEAD_ID))
        anchored = session.scalar(select(func.max(AuditAnchor.last_id)))
    if not head_id or head_id == anchored:
        return None
    return write_anchor(session, store, policy, "periodic")


def anchor_after(session: Session, store: BlobStore, policy: AnchorPolicy, reason: str) -> None:
    """Anchor after an operation that has already committed (a disposal): a failure is logged,
    not raised, as the operation itself succeeded and the periodic job anchors soon after."""
    try:
        write_anchor(session, store, policy, reason)
    except (EakteError, StorageError) as exc:
        log.warning("audit anchor after %s failed (the periodic job retries): %s", reason, exc)


@dataclass(frozen=True)
class AnchorProblem:
    subject: str
    problem: str


def check_anchors(
    session: Session, store: BlobStore, policy: AnchorPolicy, counts: dict[str, int]
) -> Iterator[AnchorProblem]:
    """Every anchor in the bucket against the chain in the database, oldest first; names the
    first anchor the chain no longer matches (and how many more do not)."""
    anchors: dict[str, Anchor] = {}
    versions: dict[str, int] = {}
    hidden: set[str] = set()
    for info in store.list(prefix=PREFIX, versions=True):
        if info.is_delete_marker:
            hidden.add(info.key)
            continue
        versions[info.key] = versions.get(info.key, 0) + 1
        if info.key.endswith(STAMP_SUFFIX):
            continue
        anchor = Anchor.from_key(info.key)
        if anchor is None:
            yield AnchorProblem(info.key, "not an audit anchor (unexpected object)")
        else:
            anchors[info.key] = anchor
    for key in sorted(k for k, n in versions.items() if n > 1):
        yield AnchorProblem(key, f"{versions[key]} versions: the anchor was overwritten")
    for key in sorted(hidden):
        yield AnchorProblem(key, "hidden by a delete marker")
    ordered = sorted(anchors.values(), key=lambda a: (a.at, a.last_id))
    counts["audit anchors"] = len(ordered)
    yield from _mismatches(session, ordered)
    if policy.tsa_ca_file is not None:
        yield from _check_tokens(store, ordered, set(versions), policy.tsa_ca_file, counts)


def _mismatches(session: Session, ordered: list[Anchor]) -> Iterator[AnchorProblem]:
    ids = sorted({a.last_id for a in ordered})
    hashes: dict[int, str] = {}
    for start in range(0, len(ids), _LOOKUP_BATCH):
        chunk = ids[start : start + _LOOKUP_BATCH]
        hashes.update(
            session.execute(
                select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))
            ).all()
        )
    bad = [a for a in ordered if hashes.get(a.last_id) != a.last_hash]
    if not bad:
        return
    first = bad[0]
    found = hashes.get(first.last_id)
    what = (
        f"entry {first.last_id} is missing"
        if found is None
        else f"entry {first.last_id} has hash {found[:12]}…, anchored {first.last_hash[:12]}…"
    )
    more = f"; {len(bad) - 1} later anchor(s) do not match either" if len(bad) > 1 else ""
    yield AnchorProblem(
        first.key,
        f"the audit trail no longer matches this anchor of {first.at:%Y-%m-%d %H:%M:%S} UTC "
        f"({what}): entries up to {first.last_id} were rewritten or removed{more}",
    )


def _check_tokens(
    store: BlobStore,
    ordered: list[Anchor],
    keys: set[str],
    ca_file: Path,
    counts: dict[str, int],
) -> Iterator[AnchorProblem]:
    """Each token valid for its anchor's bytes and given at the anchor's time (a token
    obtained later for a forged anchor shows its real time). Anchors without a token (the TSA
    did not answer, or none was configured then) are counted. Checked in parallel: each check
    waits on two ``openssl`` processes and a read from S3."""
    stamped = [a for a in ordered if a.token_key in keys]
    checked = 0
    with ThreadPoolExecutor(_TOKEN_WORKERS) as pool:
        for problem in pool.map(lambda a: _check_token_of(store, a, ca_file), stamped):
            if problem is None:
                checked += 1
            else:
                yield problem
    counts["audit anchor timestamps"] = checked
    counts["audit anchors without timestamp"] = len(ordered) - len(stamped)


def _check_token_of(store: BlobStore, anchor: Anchor, ca_file: Path) -> AnchorProblem | None:
    with store.open(anchor.token_key) as reader:
        token = reader.read()
    try:
        stamped = check_token(token, anchor.body(), ca_file)
    except TimestampFailed as exc:
        return AnchorProblem(anchor.token_key, f"timestamp not valid: {exc}")
    if not anchor.at - _TOKEN_SKEW <= stamped <= anchor.at + _TOKEN_SKEW:
        return AnchorProblem(
            anchor.token_key,
            f"timestamp {stamped:%Y-%m-%d %H:%M:%S} UTC does not match the anchor's time",
        )
    return None
