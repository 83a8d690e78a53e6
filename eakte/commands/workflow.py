"""``eakte route``, ``eakte wv``, ``eakte deputy``: routes for co-signing (Geschäftsgang),
Wiedervorlagen and deputies (issue 16) from the command line, acting as ``--user``."""

from __future__ import annotations

from datetime import date

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.errors import BadInput
from eakte.models.workflow import Decision, Instruction, RouteStep
from eakte.runtime import open_runtime
from eakte.workflow import deputies, routes, wiedervorlagen
from eakte.workflow.routes import StepSpec

STEP_HELP = (
    "A step: GROUP:INSTRUCTION:ADDRESSEE[:DEADLINE], e.g. 1:mitzeichnung:hund:2027-03-05 "
    "(ADDRESSEE a user name or unit:CODE; equal groups run in parallel). Repeatable."
)


def _parse_steps(session, actor, texts: tuple[str, ...]) -> list[StepSpec]:
    specs = []
    for text in texts:
        parts = text.split(":")
        if parts[2:3] == ["unit"] and len(parts) >= 4:  # unit:CODE contains a colon
            parts = [parts[0], parts[1], f"unit:{parts[3]}", *parts[4:]]
        if len(parts) not in (3, 4) or not parts[0].isdigit():
            raise BadInput(f"step {text!r}: expected GROUP:INSTRUCTION:ADDRESSEE[:DEADLINE]")
        try:
            instruction = Instruction(parts[1])
            deadline = date.fromisoformat(parts[3]) if len(parts) == 4 and parts[3] else None
        except ValueError as exc:
            raise BadInput(f"step {text!r}: {exc}") from None
        user_id, unit_id = routes.resolve_addressee(session, actor, parts[2])
        specs.append(StepSpec(int(parts[0]), instruction, user_id, unit_id, deadline))
    return specs


@click.group()
def route() -> None:
    """Routes for co-signing (Geschäftsgang): start, show, decide, recall."""


@route.command("start")
@click.option("--document", help="Document id or UUID the route is about.")
@click.option("--process", help="Process id or UUID the route is about.")
@click.option("--step", "steps", multiple=True, required=True, help=STEP_HELP)
@click.option("--title", default="", help="Title (default: the object's).")
@tenant_option
@user_option(default=None)
def start(document, process, steps, title, tenant, username):
    """Start a route; prints its UUID. The first group of steps becomes current."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        specs = _parse_steps(session, actor, steps)
        started = routes.start_route(
            session, actor, steps=specs, document=document, process=process, title=title
        )
        click.echo(str(started.uuid))


@route.command("show")
@click.argument("route_id")
@tenant_option
@user_option(default=None)
def show(route_id, tenant, username):
    """Show a route and its steps (id, group, status, instruction, addressee, decision)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        found = routes.get_route(session, actor, route_id)
        click.echo(f"route    {found.uuid}\ntitle    {found.title}\nstatus   {found.status}")
        if found.signed_sha256:
            click.echo(f"signed   sha256 {found.signed_sha256}")
        for step in found.steps:
            click.echo(_step_line(session, step))


def _step_line(session, step: RouteStep) -> str:
    from eakte.models import OrgUnit, User

    if step.addressee_user_id is not None:
        user = session.get(User, step.addressee_user_id)
        to = user.username if user else "?"
    else:
        unit = session.get(OrgUnit, step.addressee_unit_id)
        to = f"unit:{unit.code}" if unit else "?"
    deadline = step.deadline.isoformat() if step.deadline else "-"
    line = f"step {step.id:>6}  {step.group_no:>2}  {step.status:8} {step.instruction:17} {to:14}"
    line += f" {deadline:10} {step.decision or '-'}"
    if step.on_behalf_of_id is not None:
        line += " (i. V.)"
    return line


@route.command("decide")
@click.argument("step_id")
@click.argument("decision", type=click.Choice([d.value for d in Decision]))
@click.option("--comment", default="", help="Comment to the decision.")
@tenant_option
@user_option(default=None)
def decide(step_id, decision, comment, tenant, username):
    """Decide a current step addressed to you (or to whom you stand in for: i. V.)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        step = routes.decide(session, actor, step_id, decision, comment)
        click.echo(f"step {step.id}: {step.decision}; route {step.route.status}")


@route.command("recall")
@click.argument("route_id")
@click.option("--reason", default="", help="Why (logged).")
@tenant_option
@user_option(default=None)
def recall(route_id, reason, tenant, username):
    """Recall an open route you started."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        recalled = routes.recall(session, actor, route_id, reason)
        click.echo(f"route {recalled.uuid} recalled")


@click.group()
def wv() -> None:
    """Wiedervorlagen: an object comes back to a person on a date."""


@wv.command("add")
@click.option("--case", help="Case file reference, id or UUID.")
@click.option("--process", help="Process id or UUID.")
@click.option("--document", help="Document id or UUID.")
@click.option("--due", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD.")
@click.option("--for", "for_user", help="User name (default: yourself).")
@click.option("--note", default="")
@tenant_option
@user_option(default=None)
def wv_add(case, process, document, due, for_user, note, tenant, username):
    """Add a Wiedervorlage; prints its UUID."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        added = wiedervorlagen.add(
            session,
            actor,
            due=due.date(),
            note=note,
            user=for_user,
            case=case,
            process=process,
            document=document,
        )
        click.echo(str(added.uuid))


@wv.command("list")
@click.option("--due-by", type=click.DateTime(["%Y-%m-%d"]), help="Only due on or before.")
@click.option("--all", "include_done", is_flag=True, help="Also those done.")
@tenant_option
@user_option(default=None)
def wv_list(due_by, include_done, tenant, username):
    """Your Wiedervorlagen by date: id, due, done, note."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        rows = wiedervorlagen.list_for(
            session, actor, due_by=due_by.date() if due_by else None, include_done=include_done
        )
        for row in rows:
            state = "done" if row.done_at else "open"
            click.echo(f"{row.id:>6}  {row.due.isoformat()}  {state:4}  {row.note}")


@wv.command("done")
@click.argument("wv_id")
@click.option("--note", default="")
@tenant_option
@user_option(default=None)
def wv_done(wv_id, note, tenant, username):
    """Mark a Wiedervorlage done (yours, or i. V. for whom you stand in for)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        done = wiedervorlagen.done(session, actor, wv_id, note)
        click.echo(f"Wiedervorlage {done.uuid} done")


@click.group()
def deputy() -> None:
    """Deputies (Vertretung): who stands in for whom, when."""


@deputy.command("add")
@click.argument("deputy_name")
@click.option("--for", "principal", help="The absent person (default: yourself; admins only).")
@click.option("--from", "starts_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "ends_on", type=click.DateTime(["%Y-%m-%d"]), help="Last day (inclusive).")
@click.option("--org-unit", help="Only this org unit's work (code).")
@tenant_option
@user_option(default=None)
def deputy_add(deputy_name, principal, starts_on, ends_on, org_unit, tenant, username):
    """DEPUTY_NAME stands in for you (or --for) in the period; prints the deputyship's id."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        row = deputies.add(
            session,
            actor,
            deputy=deputy_name,
            principal=principal,
            starts_on=starts_on.date(),
            ends_on=ends_on.date() if ends_on else None,
            org_unit=org_unit,
        )
        click.echo(str(row.id))


@deputy.command("list")
@click.option("--current", is_flag=True, help="Only those in force today.")
@tenant_option
@user_option(default=None)
def deputy_list(current, tenant, username):
    """Deputyships you are part of (admins: all): id, deputy, for, from, to, unit."""
    from eakte.models import OrgUnit, User

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for row in deputies.list_for(session, actor, current_only=current):
            stand_in, absent = session.get(User, row.deputy_id), session.get(User, row.principal_id)
            unit = session.get(OrgUnit, row.org_unit_id) if row.org_unit_id else None
            ends = row.ends_on.isoformat() if row.ends_on else "-"
            click.echo(
                f"{row.id:>5}  {stand_in.username if stand_in else '?':12} for "
                f"{absent.username if absent else '?':12} {row.starts_on.isoformat()} {ends:10} "
                f"{unit.code if unit else 'all'}"
            )


@deputy.command("end")
@click.argument("deputy_id")
@tenant_option
@user_option(default=None)
def deputy_end(deputy_id, tenant, username):
    """End a deputyship: from today on it covers nothing."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        row = deputies.end(session, actor, deputy_id)
        click.echo(f"deputyship {row.id} ended")


COMMANDS: list[click.Command] = [route, wv, deputy]
