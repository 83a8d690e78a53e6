"""Notices (issue 16): a mail on arrival and a nightly digest through a real SMTP server
(aiosmtpd), German text with a link and no document content; the nightly run once per period
across worker hosts; a mail server that is away loses nothing."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import select

from eakte.config import SmtpSettings
from eakte.models.workflow import Notice, RouteStep, Wiedervorlage
from eakte.workflow import deputies, notices, routes, wiedervorlagen
from eakte.workflow.mailer import send_pending
from eakte.workflow.nightly import run_nightly
from tests.fixtures.smtp import free_port
from tests.workflow.conftest import step


def _smtp(server) -> SmtpSettings:
    return SmtpSettings(
        host=server.host,
        port=server.port,
        sender="eakte@stadt.example",
        base_url="https://eakte.stadt.example",
    )


def _text(message) -> str:
    return message.get_content()


def test_mail_on_arrival_in_german_with_a_link_and_no_content(world, desk, smtp_server):
    _case, _process, doc = desk.filed("Geheimer Bescheid Müller")
    w = world
    with w.session() as s:
        notices.set_address(s, w.clerk_sub, "hund@stadt.example")
        route = routes.start_route(
            s,
            w.clerk,
            document=doc.id,
            title="Bescheid Müller",
            steps=[
                step(1, "mitzeichnung", w.clerk_sub, deadline=date(2027, 3, 5)),
                step(1, "kenntnis", w.clerk_bau),
            ],  # no address: no mail
        )
        route_uuid = str(route.uuid)
    with w.session() as s:
        assert send_pending(s, SmtpSettings()) == 0  # mail is off by default
        assert send_pending(s, _smtp(smtp_server)) == 1
        assert send_pending(s, _smtp(smtp_server)) == 0  # sent once
    (mail,) = smtp_server.messages
    body = _text(mail)
    assert mail["To"] == "hund@stadt.example" and "zur Mitzeichnung" in mail["Subject"]
    assert f"https://eakte.stadt.example/laufwege/{route_uuid}" in body
    assert "Frist: 05.03.2027" in body
    assert "Müller" not in body and "Müller" not in mail["Subject"]  # no content, no title


def test_a_mail_server_away_loses_nothing(world, desk, smtp_server):
    _case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        notices.set_address(s, w.clerk_sub, "hund@stadt.example")
        routes.start_route(s, w.clerk, document=doc.id, steps=[step(1, "kenntnis", w.clerk_sub)])
    away = dataclasses.replace(_smtp(smtp_server), port=free_port())
    with w.session() as s:
        assert send_pending(s, away) == 0
        notice = s.scalars(select(Notice)).one()
        assert notice.sent_at is None and notice.attempts == 1
        assert notice.last_error.startswith("connect")
        assert send_pending(s, _smtp(smtp_server)) == 1
    assert len(smtp_server.messages) == 1


def test_nightly_digest_of_due_wiedervorlagen_and_overdue_steps(world, desk, smtp_server):
    case, _process, doc = desk.filed()
    w = world
    with w.session() as s:
        for user, address in (
            (w.clerk, "sachb@x.example"),
            (w.clerk_sub, "hund@x.example"),
            (w.clerk_bau, "bau@x.example"),
        ):
            notices.set_address(s, user, address)
        wiedervorlagen.add(s, w.clerk, case=case.id, due=date(2027, 3, 2), note="intern")
        routes.start_route(
            s,
            w.clerk,
            document=doc.id,
            steps=[step(1, "mitzeichnung", w.clerk_sub, deadline=date(2027, 3, 2))],
        )
        deputies.add(s, w.clerk_sub, deputy="bau", starts_on=date(2027, 3, 1))
        s.execute(Notice.__table__.delete())  # the arrival mail is not what this test is about
        s.commit()
    with w.session() as s:  # 1 March: nothing due yet
        assert run_nightly(s).digests == 0
    desk.advance(2)  # 3 March: the Wiedervorlage is overdue, the step's deadline passed
    with w.session() as s:
        result = run_nightly(s)
        assert (result.due_wiedervorlagen, result.overdue_steps, result.digests) == (1, 1, 3)
        assert run_nightly(s).digests == 0  # a second run the same day mails nothing again
        assert s.scalars(select(Wiedervorlage.notified_on)).one() == date(2027, 3, 3)
        assert s.scalars(select(RouteStep.overdue_notified)).one() is True
        assert send_pending(s, _smtp(smtp_server)) == 3
    by_to = {m["To"]: m for m in smtp_server.messages}
    assert "1 Wiedervorlage" in _text(by_to["sachb@x.example"])
    assert "1 Laufweg-Schritt" in _text(by_to["hund@x.example"])
    assert "in Vertretung für" in by_to["bau@x.example"]["Subject"]
    assert "intern" not in "".join(_text(m) for m in smtp_server.messages)


def test_nightly_job_runs_once_per_period_across_workers(rt):
    task = rt.jobs.periodic["nightly_workflow"]
    first = task.task_class().execute()
    second = task.task_class().execute()
    assert first == 0 and second is None  # the second worker host found the period claimed
    sender = rt.jobs.periodic["send_workflow_notices"]
    assert sender.task_class().execute() == 0  # mail is off: nothing to send
