"""Issue 19: EAKTE_LDAP_* and EAKTE_SECOND_FACTOR are checked at start; bad values name the
variable; no password ever in a repr."""

import pytest

from eakte.config import Settings
from eakte.errors import ConfigError


def test_defaults_need_no_directory_and_ask_privileged_roles_for_a_second_factor():
    settings = Settings.from_env({})
    assert not settings.ldap.enabled
    assert settings.second_factor == "privileged"


def test_a_directory_from_the_environment(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = Settings.from_env(
        {
            "EAKTE_LDAP_URL": "ldaps://dc1.usingen.local",
            "EAKTE_LDAP_CA_FILE": str(ca),
            "EAKTE_LDAP_BASE_DN": "dc=usingen,dc=local",
            "EAKTE_LDAP_BIND_DN": "cn=svc,dc=usingen,dc=local",
            "EAKTE_LDAP_BIND_PASSWORD": "geheim-1234",
            "EAKTE_LDAP_LOCAL_USERS": "admin, notfall",
            "EAKTE_SECOND_FACTOR": "everyone",
        }
    )
    assert settings.ldap.local_users == ("admin", "notfall")
    assert "sAMAccountName" in settings.ldap.user_filter  # Active Directory by default
    assert settings.second_factor == "everyone"
    assert "geheim-1234" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EAKTE_LDAP_URL": "ldap://dc1", "EAKTE_LDAP_BASE_DN": "dc=x"}, "EAKTE_LDAP_URL"),
        ({"EAKTE_LDAP_URL": "http://dc1", "EAKTE_LDAP_BASE_DN": "dc=x"}, "EAKTE_LDAP_URL"),
        ({"EAKTE_LDAP_URL": "ldaps://dc1"}, "EAKTE_LDAP_BASE_DN"),
        (
            {"EAKTE_LDAP_URL": "ldaps://dc1", "EAKTE_LDAP_BASE_DN": "dc=x",
             "EAKTE_LDAP_CA_FILE": "/nonexistent/ca.crt"},
            "EAKTE_LDAP_CA_FILE",
        ),
        (
            {"EAKTE_LDAP_URL": "ldaps://dc1", "EAKTE_LDAP_BASE_DN": "dc=x",
             "EAKTE_LDAP_USER_FILTER": "(uid=admin)"},
            "EAKTE_LDAP_USER_FILTER",
        ),
        (
            {"EAKTE_LDAP_URL": "ldaps://dc1", "EAKTE_LDAP_BASE_DN": "dc=x",
             "EAKTE_LDAP_BIND_DN": "cn=svc"},
            "EAKTE_LDAP_BIND_DN",
        ),
        ({"EAKTE_LDAP_STARTTLS": "vielleicht"}, "EAKTE_LDAP_STARTTLS"),
        ({"EAKTE_SECOND_FACTOR": "sometimes"}, "EAKTE_SECOND_FACTOR"),
    ],
)  # fmt: skip
def test_bad_values_name_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)
