"""The clerk's daily work (issue 16): routes for co-signing (Geschäftsgang), their steps
(Beteiligungsschritte), Wiedervorlagen and deputies (Vertretungen).

A route is on a document or on a process; its steps carry a group number: the steps of one
group are current together (parallel co-signers), the next group becomes current when every
step of the group before it is done. Done steps are never changed (R29): the services refuse it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.base import Base, CreatedMixin, UuidMixin


class RouteStatus(enum.StrEnum):
    active = "active"  # steps are moving
    returned = "returned"  # "nicht mitgezeichnet": back with its author
    recalled = "recalled"  # the author withdrew it
    completed = "completed"  # the last group is done (a Schlusszeichnung, if any, given)


OPEN_ROUTE = (RouteStatus.active.value, RouteStatus.returned.value)


class StepStatus(enum.StrEnum):
    future = "future"
    current = "current"
    done = "done"
    skipped = "skipped"


class Instruction(enum.StrEnum):
    """The Verfügung's instruction (xdomea: Beteiligungsschritt/Verfuegung)."""

    kenntnis = "kenntnis"  # zur Kenntnis
    mitzeichnung = "mitzeichnung"  # zur Mitzeichnung
    stellungnahme = "stellungnahme"  # zur Stellungnahme
    bearbeitung = "bearbeitung"  # zur Bearbeitung
    schlusszeichnung = "schlusszeichnung"  # zur Schlusszeichnung


class Decision(enum.StrEnum):
    mitgezeichnet = "mitgezeichnet"
    mitgezeichnet_mit_aenderungen = "mitgezeichnet_mit_aenderungen"
    nicht_mitgezeichnet = "nicht_mitgezeichnet"
    zur_kenntnis_genommen = "zur_kenntnis_genommen"
    erledigt = "erledigt"
    schlussgezeichnet = "schlussgezeichnet"


class Route(UuidMixin, CreatedMixin, Base):
    """A Geschäftsgang on one document or one process (``case_id`` kept for the zdA check and
    the desk's lists; None for a document still in an inbox)."""

    __tablename__ = "route"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=RouteStatus.active.value, index=True)
    # The document version the route is about: a later version needs a new route.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("file_version.id"))
    # Set by the Schlusszeichnung: the signed version and its hash, frozen from then on.
    signed_version_id: Mapped[int | None] = mapped_column(ForeignKey("file_version.id"))
    signed_sha256: Mapped[str] = mapped_column(String(64), default="")
    finished_at: Mapped[datetime | None]

    steps: Mapped[list[RouteStep]] = relationship(
        back_populates="route", order_by="(RouteStep.group_no, RouteStep.id)"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ROUTE


class RouteStep(UuidMixin, CreatedMixin, Base):
    """A Beteiligungsschritt: the Verfügung (addressee, instruction, deadline, note) and its
    Bearbeitung (decision, comment, who, when; ``on_behalf_of_id`` when a deputy acted, i. V.)."""

    __tablename__ = "route_step"
    __table_args__ = (
        # the desk: what is current for a user or a unit, by deadline
        Index("ix_route_step_user_status", "addressee_user_id", "status", "deadline"),
        Index("ix_route_step_unit_status", "addressee_unit_id", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"), index=True)
    group_no: Mapped[int]
    addressee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    addressee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    instruction: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.future.value)
    became_current_at: Mapped[datetime | None]
    decision: Mapped[str] = mapped_column(String(40), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # the nightly job mailed its overdue notice (once per step)
    overdue_notified: Mapped[bool] = mapped_column(default=False)

    route: Mapped[Route] = relationship(back_populates="steps")


class Wiedervorlage(UuidMixin, CreatedMixin, Base):
    """A resubmission: the object comes back to ``user_id`` on ``due``."""

    __tablename__ = "wiedervorlage"
    __table_args__ = (Index("ix_wiedervorlage_user_open", "user_id", "done_at", "due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    due: Mapped[date] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    notified_on: Mapped[date | None]  # the nightly job mailed it (once)

    @property
    def is_open(self) -> bool:
        return self.done_at is None


class Deputy(UuidMixin, CreatedMixin, Base):
    """A Vertretung: ``deputy_id`` stands in for ``principal_id`` from ``starts_on`` to
    ``ends_on`` (inclusive; None: until ended), for all work or one org unit's."""

    __tablename__ = "deputy"
    __table_args__ = (Index("ix_deputy_deputy_period", "deputy_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    principal_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Notice(CreatedMixin, Base):
    """A mail to send (outbox): written in the transaction of what it reports, so nothing is
    lost when the mail server is away; a sender delivers it later (``sent_at``). German text and
    a link, never document content."""

    __tablename__ = "workflow_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))  # arrival, returned, digest
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class MailAddress(Base):
    """Where a user's workflow notices go (none: no mail). Kept beside the account so that the
    accounts model is unchanged; set by the user or an admin."""

    __tablename__ = "workflow_mail_address"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
