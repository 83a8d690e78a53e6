"""Directory sign-in tests: a real OpenLDAP per test (``tests.fixtures.slapd``), eAkte's settings
pointing at it over LDAPS, the town hall's groups mapped to roles and org units."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from eakte.cli import main
from eakte.directory import mapping
from eakte.directory.settings import LdapSettings
from eakte.models import Role
from tests.fixtures import slapd
from tests.fixtures.app import csrf_token
from tests.fixtures.slapd import directory  # noqa: F401 (a fixture)


@pytest.fixture
def second_factor_policy() -> str:
    return "off"


@pytest.fixture
def ldap_settings(directory) -> LdapSettings:  # noqa: F811
    return LdapSettings(
        url=directory.ldaps_url,
        ca_file=str(directory.ca_file),
        base_dn=slapd.SUFFIX,
        user_filter=slapd.USER_FILTER,
        group_filter=slapd.GROUP_FILTER,
        bind_dn=slapd.SERVICE_DN,
        bind_password=slapd.SERVICE_PW,
        local_users=("admin",),
        timeout=3,
    ).check()


@pytest.fixture
def settings(settings, ldap_settings, second_factor_policy):
    return dataclasses.replace(settings, ldap=ldap_settings, second_factor=second_factor_policy)


@pytest.fixture
def env(env, ldap_settings, second_factor_policy, monkeypatch):
    values = {
        "EAKTE_LDAP_URL": ldap_settings.url,
        "EAKTE_LDAP_CA_FILE": ldap_settings.ca_file,
        "EAKTE_LDAP_BASE_DN": ldap_settings.base_dn,
        "EAKTE_LDAP_USER_FILTER": ldap_settings.user_filter,
        "EAKTE_LDAP_GROUP_FILTER": ldap_settings.group_filter,
        "EAKTE_LDAP_BIND_DN": ldap_settings.bind_dn,
        "EAKTE_LDAP_BIND_PASSWORD": ldap_settings.bind_password,
        "EAKTE_SECOND_FACTOR": second_factor_policy,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**env, **values}


@pytest.fixture
def mapped(world):
    """Sachbearbeitung → clerk, Registratur → records officer, Ordnungsamt → org unit 32."""
    with world.session() as s:
        mapping.add(s, None, world.tenant, slapd.group_dn("eakte-sachbearbeitung"), Role.clerk)
        mapping.add(
            s, None, world.tenant, slapd.group_dn("eakte-registratur"), Role.records_officer
        )
        mapping.add(s, None, world.tenant, slapd.group_dn("ordnungsamt"), None, "32")
    return world


@pytest.fixture
def cli(env):
    runner = CliRunner()

    def run(*args, stdin=None):
        return runner.invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)

    return run


def post_login(app, username, password, tenant="default"):
    """A fresh client's sign-in: (client, response)."""
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "tenant": tenant, "username": username, "password": password},
    )
    return client, response


@pytest.fixture
def due_case(world):
    """A closed Gewerbe case whose retention ended long ago: due for disposal."""
    from datetime import date

    from eakte.services import cases

    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Alte Gewerbeakte", year=2009)
        cases.close_case(s, world.officer, case.id, on=date(2010, 5, 1))
    return case
