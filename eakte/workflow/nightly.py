"""The nightly run (R30): due Wiedervorlagen and overdue steps surface, and every person with
something due gets one digest mail (German, counts and a link to the desk, no content). Their
deputies get the digest of whom they stand in for too. Set-based: a few aggregate queries,
whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import User
from eakte.models.workflow import (
    Deputy,
    Notice,
    Route,
    RouteStatus,
    RouteStep,
    StepStatus,
    Wiedervorlage,
)
from eakte.workflow import clock, notices


@dataclass(frozen=True)
class NightlyResult:
    due_wiedervorlagen: int
    overdue_steps: int
    newly_due: int
    newly_overdue: int
    digests: int


def run_nightly(session: Session) -> NightlyResult:
    with transaction(session):
        today = clock.today(session)
        start_of_day = clock.now(session).replace(hour=0, minute=0, second=0, microsecond=0)
        wv_open = (Wiedervorlage.done_at.is_(None), Wiedervorlage.due <= today)
        wv_counts = dict(
            session.execute(
                select(Wiedervorlage.user_id, func.count(Wiedervorlage.id))
                .where(*wv_open)
                .group_by(Wiedervorlage.user_id)
            ).all()
        )
        overdue = (
            RouteStep.status == StepStatus.current.value,
            RouteStep.deadline < today,
            RouteStep.route_id.in_(
                select(Route.id).where(Route.status == RouteStatus.active.value)
            ),
        )
        step_counts: dict[int, int] = defaultdict(int)
        for user_id, count in session.execute(
            select(RouteStep.addressee_user_id, func.count(RouteStep.id))
            .where(*overdue, RouteStep.addressee_user_id.is_not(None))
            .group_by(RouteStep.addressee_user_id)
        ):
            if user_id is not None:
                step_counts[user_id] += count
        for unit_id, count in session.execute(
            select(RouteStep.addressee_unit_id, func.count(RouteStep.id))
            .where(*overdue, RouteStep.addressee_unit_id.is_not(None))
            .group_by(RouteStep.addressee_unit_id)
        ):
            for user_id in session.scalars(
                select(User.id).where(User.org_unit_id == unit_id, User.active)
            ):
                step_counts[user_id] += count
        # an UPDATE's result is a CursorResult, which counts the rows it matched
        newly_due = cast(
            CursorResult[Any],
            session.execute(
                update(Wiedervorlage)
                .where(*wv_open, Wiedervorlage.notified_on.is_(None))
                .values(notified_on=today)
            ),
        ).rowcount
        newly_overdue = cast(
            CursorResult[Any],
            session.execute(
                update(RouteStep)
                .where(*overdue, RouteStep.overdue_notified.is_(False))
                .values(overdue_notified=True)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        people = set(wv_counts) | set(step_counts)
        deputies: dict[int, list[int]] = defaultdict(list)  # principal -> deputies today
        for principal_id, deputy_id in session.execute(
            select(Deputy.principal_id, Deputy.deputy_id).where(
                Deputy.principal_id.in_(people),
                Deputy.starts_on <= today,
                (Deputy.ends_on.is_(None)) | (Deputy.ends_on >= today),
            )
        ):
            deputies[principal_id].append(deputy_id)
        already = set(
            session.scalars(
                select(Notice.user_id).where(
                    Notice.kind == "digest", Notice.created_at >= start_of_day
                )
            )
        )
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(people)))}
        digests = 0
        for user_id in sorted(people):
            user = users.get(user_id)
            if user is None or not user.active:
                continue
            text = _digest_text(wv_counts.get(user_id, 0), step_counts.get(user_id, 0))
            recipients = [(user_id, "")] + [
                (deputy, f" (in Vertretung für {user.display_name or user.username})")
                for deputy in deputies.get(user_id, [])
            ]
            for recipient, suffix in recipients:
                if recipient in already:
                    continue
                notices.add(
                    session,
                    user.tenant_id,
                    recipient,
                    "digest",
                    f"eAkte: fällige Arbeit{suffix}",
                    text + f"\nSchreibtisch: {{base_url}}{notices.DESK_PATH}\n",
                )
                digests += 1
        session.flush()
        return NightlyResult(
            sum(wv_counts.values()),
            sum(step_counts.values()),
            newly_due or 0,
            newly_overdue or 0,
            digests,
        )


def _digest_text(wvs: int, steps: int) -> str:
    lines = ["Guten Morgen,", "", "auf Ihrem Schreibtisch in eAkte ist heute fällig:"]
    if wvs:
        lines.append(f"- {wvs} Wiedervorlage(n), heute oder überfällig")
    if steps:
        lines.append(f"- {steps} Laufweg-Schritt(e) mit überschrittener Frist")
    return "\n".join(lines) + "\n"
