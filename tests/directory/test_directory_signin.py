"""Issue 19: sign-in through a real OpenLDAP (LDAPS and StartTLS, certificate from a generated
CA), people created at their first sign-in, roles following their groups, leavers disabled by
the nightly sync, and the local break-glass admin when the directory is down."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eakte.directory import signin
from eakte.directory.ldap_client import DirectoryClient
from eakte.directory.settings import LdapSettings
from eakte.errors import ConfigError, DirectoryUnavailable
from eakte.jobs.directory_tasks import nightly_directory_sync
from eakte.models import AuditEvent, OrgUnit, Role, User
from eakte.models.api import ApiToken, Scope
from eakte.models.directory import DirectoryAccount
from eakte.services import accounts, api_tokens
from tests.directory.conftest import post_login
from tests.fixtures import slapd
from tests.fixtures.app import PASSWORD


def _user(world, username) -> User | None:
    with world.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is not None:
            s.expunge(user)
        return user


def _logins(world, username):
    with world.session() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id)
        ).all()
        out = []
        for e in events:
            details = json.loads(e.details)
            if e.username == username or details.get("attempted_username") == username:
                out.append((e.outcome, details))
        return out


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_directory_user_signs_in_and_is_created_with_mapped_roles(
    app, mapped, directory, settings, transport
):
    if transport == "starttls":
        starttls = dataclasses.replace(settings.ldap, url=directory.ldap_url, starttls=True)
        app.extensions["eakte.runtime"].settings = dataclasses.replace(settings, ldap=starttls)
    assert _user(mapped, "mmueller") is None
    client, response = post_login(app, "mmueller", slapd.USER_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    user = _user(mapped, "mmueller")
    assert user.display_name == "Maria Müller"
    assert user.roles == {Role.clerk}
    with mapped.session() as s:
        assert s.get(OrgUnit, user.org_unit_id).code == "32"
        assert s.get(DirectoryAccount, user.id).dn == slapd.user_dn("mmueller")
    assert user.last_login_at is not None
    assert user.password_hash == signin.DIRECTORY  # no local password to guess
    assert _logins(mapped, "mmueller")[-1] == (
        "ok",
        {"via": "directory", "client_address": "127.0.0.1"},
    )
    # the admin sees each user's last sign-in on the user list (Berlin time, to the minute)
    admin, _ = post_login(app, "admin", PASSWORD)
    page = admin.get("/verwaltung/benutzer").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if "<td>mmueller</td>" in r)
    shown = re.search(r"<td>(\d\d\.\d\d\.\d{4} \d\d:\d\d)</td>", row).group(1)
    signed_in = user.last_login_at.replace(tzinfo=user.last_login_at.tzinfo or UTC)
    berlin = signed_in.astimezone(ZoneInfo("Europe/Berlin"))
    assert shown == berlin.strftime("%d.%m.%Y %H:%M")
    never = next(r for r in page.split("<tr>") if "<td>bau</td>" in r)
    assert "<td>–</td>" in never


def test_wrong_password_and_unknown_user_are_refused_and_audited(app, mapped):
    _, response = post_login(app, "mmueller", "falsch")
    assert response.status_code == 200
    assert "Benutzername oder Passwort ist falsch" in response.get_data(as_text=True)
    assert _user(mapped, "mmueller") is None  # nobody created on a failed sign-in
    _, response = post_login(app, "niemand", slapd.USER_PASSWORD)
    assert response.status_code == 200
    assert _logins(mapped, "mmueller")[-1][0] == "failed"
    assert _logins(mapped, "niemand")[-1][0] == "failed"
    # an empty password would be an anonymous bind, which LDAP servers accept: refused
    assert DirectoryClient(mapped.rt.settings.ldap).authenticate("mmueller", "") is None


def test_failures_are_throttled(app, mapped):
    for _ in range(5):
        post_login(app, "kschmidt", "falsch")
    _, response = post_login(app, "kschmidt", slapd.USER_PASSWORD)
    assert response.status_code == 429
    assert _logins(mapped, "kschmidt")[-1][0] == "throttled"


def test_disabled_account_cannot_sign_in(app, mapped):
    _, response = post_login(app, "locked", slapd.USER_PASSWORD)
    assert response.status_code == 200
    assert "Benutzername oder Passwort ist falsch" in response.get_data(as_text=True)
    assert _user(mapped, "locked") is None


def test_person_without_a_mapped_group_is_told_so(app, mapped, directory):
    directory.remove_from_group("eakte-sachbearbeitung", "kschmidt")
    directory.remove_from_group("ordnungsamt", "kschmidt")
    _, response = post_login(app, "kschmidt", slapd.USER_PASSWORD)
    assert response.status_code == 403
    assert "keinen Zugang zu eAkte" in response.get_data(as_text=True)
    assert _logins(mapped, "kschmidt")[-1][0] == "no_mapped_group"


def test_group_change_changes_roles(app, mapped, directory):
    client, response = post_login(app, "kschmidt", slapd.USER_PASSWORD)
    assert response.status_code == 302
    assert client.get("/aussonderung/").status_code == 403
    directory.add_to_group("eakte-registratur", "kschmidt")
    client, response = post_login(app, "kschmidt", slapd.USER_PASSWORD)
    assert _user(mapped, "kschmidt").roles == {Role.clerk, Role.records_officer}
    assert client.get("/aussonderung/").status_code == 200
    # taken out again: the nightly sync takes the role away and ends the sessions
    directory.remove_from_group("eakte-registratur", "kschmidt")
    assert nightly_directory_sync(mapped.rt) == 0
    assert _user(mapped, "kschmidt").roles == {Role.clerk}
    assert client.get("/aussonderung/").status_code == 302  # signed out: to the sign-in page
    with mapped.session() as s:
        changes = s.scalars(select(AuditEvent).where(AuditEvent.action == "directory_roles")).all()
        assert [json.loads(e.details)["after"] for e in changes] == [
            ["clerk"],
            ["clerk", "records_officer"],
            ["clerk"],
        ]


def test_removed_user_is_disabled_by_the_nightly_sync_with_sessions_and_tokens(
    app, mapped, directory
):
    client, response = post_login(app, "gone", slapd.USER_PASSWORD)
    assert response.status_code == 302
    stays, _ = post_login(app, "mmueller", slapd.USER_PASSWORD)
    with mapped.session() as s:
        gone = s.scalar(select(User).where(User.username == "gone"))
        _token, plain = api_tokens.create_token(s, gone, "Skript", {Scope.read})
    assert client.get("/").status_code == 200
    directory.delete_person("gone")
    assert nightly_directory_sync(mapped.rt) == 1
    user = _user(mapped, "gone")
    assert not user.active
    assert client.get("/").status_code == 302  # the session ended
    assert stays.get("/").status_code == 200  # the others' did not
    with mapped.session() as s:
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == user.id))
        with pytest.raises(Exception, match="revoked"):
            api_tokens.authenticate_token(s, plain)
        disabled = s.scalar(select(AuditEvent).where(AuditEvent.action == "disable"))
        assert json.loads(disabled.details)["reason"] == "not_in_directory"
    _, response = post_login(app, "gone", slapd.USER_PASSWORD)
    assert response.status_code == 200  # no entry any more: refused


def test_locked_in_directory_is_disabled_by_the_sync_and_comes_back(app, mapped, directory):
    assert post_login(app, "kschmidt", slapd.USER_PASSWORD)[1].status_code == 302
    directory.lock("kschmidt")
    assert nightly_directory_sync(mapped.rt) == 1
    assert not _user(mapped, "kschmidt").active
    directory.modify(
        f"dn: {slapd.user_dn('kschmidt')}\nchangetype: modify\ndelete: pwdAccountLockedTime\n"
    )
    # unlocked by the IT department: the next sign-in enables the account the sync disabled
    assert post_login(app, "kschmidt", slapd.USER_PASSWORD)[1].status_code == 302
    assert _user(mapped, "kschmidt").active


def test_an_admin_disabled_directory_user_stays_disabled(app, mapped):
    assert post_login(app, "mmueller", slapd.USER_PASSWORD)[1].status_code == 302
    with mapped.session() as s:
        accounts.set_user_active(s, mapped.admin, "mmueller", False)
    assert post_login(app, "mmueller", slapd.USER_PASSWORD)[1].status_code == 200
    assert not _user(mapped, "mmueller").active


def test_directory_unreachable_local_admin_signs_in_and_the_page_says_why(app, mapped, directory):
    assert post_login(app, "mmueller", slapd.USER_PASSWORD)[1].status_code == 302
    directory.stop()
    _, response = post_login(app, "mmueller", slapd.USER_PASSWORD)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Verzeichnis" in page and "nicht erreichbar" in page
    assert "lokale Notfall-Konten" in page
    assert _logins(mapped, "mmueller")[-1][0] == "unreachable"
    admin, response = post_login(app, "admin", PASSWORD)  # break-glass: the local password
    assert response.status_code == 302
    assert admin.get("/verwaltung/benutzer").status_code == 200
    # an outage disables nobody
    assert nightly_directory_sync(mapped.rt) == 0
    assert _user(mapped, "mmueller").active


def test_a_local_account_of_a_directory_tenant_cannot_use_its_password(app, mapped):
    """Only the configured break-glass accounts keep local passwords: "sachb" (a local clerk
    of the world) is not in the directory and cannot sign in any more."""
    _, response = post_login(app, "sachb", PASSWORD)
    assert response.status_code == 200
    assert _user(mapped, "sachb").active


def test_tls_is_required_and_verified(mapped, directory, ldap_settings):
    with pytest.raises(ConfigError, match="clear"):
        LdapSettings(url=directory.ldap_url, base_dn=slapd.SUFFIX).check()
    untrusted = dataclasses.replace(ldap_settings, ca_file="")  # the system's CAs only
    with pytest.raises(DirectoryUnavailable, match="certificate verify failed"):
        DirectoryClient(untrusted).lookup("mmueller")


def test_per_tenant_directory_with_encrypted_bind_password(app, mapped, ldap_settings, world):
    """A second municipality gets its own directory (here: a subtree) stored in the database;
    the bind password is stored encrypted and never in the audit trail."""
    from eakte.directory import config, mapping

    with world.session() as s:
        other = accounts.add_tenant(s, "weilrod", "Gemeinde Weilrod", PASSWORD)
        own = dataclasses.replace(
            ldap_settings, base_dn=slapd.PEOPLE, group_base_dn=slapd.GROUPS, tenant="weilrod"
        )
        key = world.rt.settings.resolved_secret_key()
        row = config.save(s, None, other, own, key)
        assert slapd.SERVICE_PW not in row.bind_password_enc
        mapping.add(s, None, other, slapd.group_dn("eakte-registratur"), Role.records_officer)
        assert config.for_tenant(s, LdapSettings(), key, other).bind_password == slapd.SERVICE_PW
        trail = " ".join(e.details for e in s.scalars(select(AuditEvent)))
        assert slapd.SERVICE_PW not in trail
    _, response = post_login(app, "rweber", slapd.USER_PASSWORD, tenant="weilrod")
    assert response.status_code == 302
    with world.session() as s:
        rweber = s.scalar(select(User).where(User.username == "rweber"))
        assert rweber.tenant_id == other.id and rweber.roles == {Role.records_officer}


def test_eakte_ldap_test_and_sync_commands(cli, mapped):
    shown = cli("ldap", "test", "--lookup", "mmueller")
    assert shown.exit_code == 0, shown.output
    assert "uid=mmueller,ou=people,dc=usingen,dc=de" in shown.output
    assert "roles in eAkte: clerk" in shown.output
    assert slapd.SERVICE_PW not in shown.output
    missing = cli("ldap", "test", "--lookup", "niemand")
    assert missing.exit_code == 9
    listed = cli("ldap", "mappings")
    assert "cn=eakte-registratur,ou=groups,dc=usingen,dc=de\trecords_officer" in listed.output
    synced = cli("ldap", "sync")
    assert synced.exit_code == 0 and "default: 0 checked" in synced.output


def test_admins_may_not_map_groups_to_four_eyes_roles(mapped):
    from eakte.directory import mapping
    from eakte.errors import FourEyes

    with mapped.session() as s:
        with pytest.raises(FourEyes):
            mapping.add(s, mapped.admin, mapped.tenant, "cn=x,dc=usingen,dc=de", Role.admin)
        row = mapping.add(s, mapped.admin, mapped.tenant, "cn=x,dc=usingen,dc=de", Role.scanner)
        assert row.role == "scanner"


def test_nightly_sync_runs_once_per_night_across_hosts(mapped, directory):
    """Two worker hosts on one queue: the first claims the night, the second skips."""
    jobs = mapped.rt.jobs
    task = jobs.periodic["nightly_directory_sync"]
    task.call_local()
    task.call_local()
    with mapped.session() as s:
        runs = s.scalars(select(AuditEvent).where(AuditEvent.action == "directory_sync")).all()
    assert len(runs) == 1


def test_command_line_decisions_take_the_directory_password(cli, mapped, directory):
    """`eakte retention approve` as a directory user: the directory password counts; a local
    account of a directory tenant (not break-glass) no longer confirms with its old password."""
    directory.add_to_group("eakte-registratur", "kschmidt")
    with mapped.session() as s:
        entry = DirectoryClient(mapped.rt.settings.ldap).lookup("kschmidt")
        with s.begin():
            signin.provision(s, mapped.tenant, entry)
    hold = ["retention", "approve", "00000000", "--password-stdin"]
    local = cli(*hold, "--user", "registratur2", stdin=PASSWORD + "\n")
    assert local.exit_code == 8  # refused before the request is even looked at
    refused = cli(*hold, "--user", "kschmidt", stdin="falsch\n")
    assert refused.exit_code == 8
    accepted = cli(*hold, "--user", "kschmidt", stdin=slapd.USER_PASSWORD + "\n")
    assert accepted.exit_code == 9  # the password counted: the request does not exist


def test_no_password_in_the_logs(app, mapped, directory, caplog):
    caplog.set_level(logging.DEBUG)
    post_login(app, "mmueller", slapd.USER_PASSWORD)
    post_login(app, "mmueller", "Falsches-Passwort-9")
    nightly_directory_sync(mapped.rt)
    directory.stop()
    post_login(app, "mmueller", slapd.USER_PASSWORD)
    nightly_directory_sync(mapped.rt)
    assert "nicht erreichbar" not in caplog.text  # the log speaks English ...
    assert "not reachable" in caplog.text or "connection" in caplog.text  # ... and says why
    for secret in (slapd.USER_PASSWORD, "Falsches-Passwort-9", slapd.SERVICE_PW):
        assert secret not in caplog.text
