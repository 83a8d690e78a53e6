"""``eakte hold add|release|list``: legal holds (R12)."""

from __future__ import annotations

import click

from eakte.commands.common import (
    acting_user,
    load_settings,
    password_option,
    tenant_option,
    user_option,
)
from eakte.runtime import open_runtime
from retention import holds


@click.group("hold")
def hold_group() -> None:
    """Legal holds (R12): freeze a case, process or file-plan node and all beneath it.

    While a hold stands nothing beneath it can be changed, destroyed or transferred, by any
    role; several holds may apply at once; each release is logged."""


@hold_group.command("add")
@click.option("--case", "case_ref", help="File reference or UUID of the case.")
@click.option("--process", "process_ref", help="UUID (or id) of the process.")
@click.option("--node", help="File-plan code; covers every node and case beneath.")
@click.option("--reason", required=True, help="Why, e.g. the proceedings.")
@click.option("--authority", required=True, help="Who ordered it, e.g. the court and docket.")
@tenant_option
@user_option()
def hold_add(case_ref, process_ref, node, reason, authority, tenant, username):
    """Place a legal hold on exactly one of --case, --process or --node."""
    targets = [
        (t, v) for t, v in (("case", case_ref), ("process", process_ref), ("node", node)) if v
    ]
    if len(targets) != 1:
        raise click.UsageError("give exactly one of --case, --process or --node")
    ((target_type, target),) = targets
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        hold = holds.place_hold(
            session, actor, target_type, target, reason=reason, authority=authority, store=rt.store
        )
        pending = " (S3 legal holds pending: retried by the workers)" if hold.s3_pending else ""
    click.echo(f"hold {hold.uuid} placed on {target_type} {target}{pending}")


@hold_group.command("release")
@click.argument("hold")
@click.option("--reason", required=True, help="Why the hold ends (logged).")
@tenant_option
@user_option()
@password_option
def hold_release(hold, reason, tenant, username, password_stdin):
    """Release HOLD (UUID); other holds over the same objects stay in force."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        released = holds.release_hold(session, actor, hold, reason=reason, store=rt.store)
    click.echo(f"hold {released.uuid} released")


@hold_group.command("list")
@click.option("--all", "include_released", is_flag=True, help="Include released holds.")
@tenant_option
@user_option()
def hold_list(include_released, tenant, username):
    """List the active legal holds."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for item in holds.list_holds(session, actor, include_released=include_released):
            state = f"released {item.released_at:%Y-%m-%d}" if item.released_at else "active"
            click.echo(
                f"{item.uuid}  {state:19} {holds.describe_target(session, item):30} "
                f"{item.authority}: {item.reason}"
            )
