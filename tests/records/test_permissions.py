"""R22: one place decides; a matrix of every role against every action, allowed and refused."""

import pytest

from eakte.permissions import Action, can
from eakte.services import cases

A = Action
ALL = set(Action)
# What each role may do to a case of its own org unit (clerks: their unit; others: tenant-wide).
OWN_CASE = {
    "admin": {A.view, A.download, A.manage_users, A.manage_fileplan, A.view_audit, A.manage_mail},
    "officer": {
        A.view,
        A.download,
        A.create_case,
        A.edit,
        A.file,
        A.close,
        A.reopen,
        A.restrict,
        A.view_restricted,
        A.override_schedule,
        A.manage_fileplan,
        A.manage_schedules,
        A.view_audit,
        A.place_hold,
        A.dispose,
        A.route,  # issue 16: start a route, add a Wiedervorlage
        A.manage_mail,  # issue 17: the mail intake's IMAP accounts
    },
    "clerk": {
        A.view,
        A.download,
        A.create_case,
        A.edit,
        A.file,
        A.close,
        A.restrict,
        A.ingest,
        A.route,
    },
    "scanner": set(),  # scanning staff never see filed cases
}
# A case of another org unit (the Bauamt's).
OTHER_CASE = {**OWN_CASE, "clerk": set()}
# A document still in the Ordnungsamt's inbox.
INBOX_DOC = {**OWN_CASE, "scanner": {A.view, A.download, A.ingest, A.qc_scan, A.migrate}}
# A restricted case (DSGVO Art. 18): only roles with view_restricted reach it at all.
RESTRICTED = {"admin": set(), "officer": OWN_CASE["officer"], "clerk": set(), "scanner": set()}


@pytest.fixture
def subjects(world):
    with world.session() as s:
        own = cases.create_case(s, world.clerk, "32.10.05", "Eigene Akte")
        other = cases.create_case(s, world.clerk_bau, "60.01", "Bauakte")
        restricted = cases.create_case(s, world.clerk, "32.10.05", "Gesperrt")
        cases.restrict_case(s, world.clerk, restricted.id, True, "Art. 18")
    doc = world.inbox_document("Posteingang")
    return {"own": own.id, "other": other.id, "restricted": restricted.id, "doc": doc.id}


@pytest.mark.parametrize("role", ["admin", "officer", "clerk", "scanner"])
@pytest.mark.parametrize(
    ("subject", "table"),
    [("own", OWN_CASE), ("other", OTHER_CASE), ("doc", INBOX_DOC), ("restricted", RESTRICTED)],
)
def test_r22_permission_matrix(world, subjects, role, subject, table):
    from eakte.models import Case, Document

    users = {
        "admin": world.admin,
        "officer": world.officer,
        "clerk": world.clerk,
        "scanner": world.scanner,
    }
    with world.session() as s:
        user = s.merge(users[role])
        model = Document if subject == "doc" else Case
        obj = s.get(model, subjects[subject])
        allowed = {action for action in ALL if can(s, user, action, obj)}
    assert allowed == table[role], f"{role} on {subject}"


def test_r22_clerk_reaches_sub_units_not_siblings(world):
    with world.session() as s:
        dog_case = cases.create_case(s, world.clerk_sub, "32.20", "Hund Bello")
        from eakte.models import Case

        obj = s.get(Case, dog_case.id)
        assert can(s, s.merge(world.clerk), A.edit, obj)  # Ordnungsamt above Hundesteuer
        assert can(s, s.merge(world.clerk_sub), A.edit, obj)
        assert not can(s, s.merge(world.clerk_bau), A.view, obj)
        own = s.get(Case, cases.create_case(s, world.clerk, "32.10.05", "Gewerbe").id)
        assert not can(s, s.merge(world.clerk_sub), A.view, own)  # not upwards


def test_r22_disabled_user_may_nothing(world):
    from eakte.services import accounts

    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Akte")
        accounts.set_user_active(s, world.admin, "sachb", False)
        from eakte.models import Case, User

        clerk = s.get(User, world.clerk.id)
        assert not any(can(s, clerk, action, s.get(Case, case.id)) for action in ALL)


def test_r22_clerk_cannot_create_case_for_other_unit(world):
    from eakte.errors import NotFound, PermissionDenied

    with world.session() as s, pytest.raises((PermissionDenied, NotFound)):
        cases.create_case(s, world.clerk, "60.01", "Fremd", org_unit_id=world.clerk_bau.org_unit_id)
