"""A directory's connection settings: from ``EAKTE_LDAP_*`` (one tenant) or a tenant's row.

Only encrypted connections: ``ldaps://`` or ``ldap://`` with StartTLS, the server's certificate
always verified (against ``ca_file`` or the system's CAs). A plain ``ldap://`` without StartTLS
would send every password in the clear and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from eakte.errors import ConfigError

# Active Directory: the account name, and only accounts that are not disabled
# (userAccountControl bit 2, matched with the bitwise-AND rule).
AD_USER_FILTER = (
    "(&(objectClass=user)(sAMAccountName={username})"
    "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
)
DEFAULT_GROUP_FILTER = (
    "(|(&(objectClass=groupOfNames)(member={dn}))(&(objectClass=group)(member={dn})))"
)
SECOND_FACTOR_POLICIES = ("privileged", "everyone", "off")


@dataclass(frozen=True)
class LdapSettings:
    url: str = ""
    starttls: bool = False
    ca_file: str = ""
    base_dn: str = ""
    user_filter: str = AD_USER_FILTER
    group_base_dn: str = ""
    group_filter: str = DEFAULT_GROUP_FILTER
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    # Local accounts that keep signing in with their eAkte password (break-glass admins).
    local_users: tuple[str, ...] = ("admin",)
    tenant: str = "default"  # the tenant the environment's directory serves
    timeout: int = 5  # seconds, connecting and each operation

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def check(self, prefix: str = "EAKTE_LDAP_") -> LdapSettings:
        """``self`` if usable, else ``ConfigError`` naming the setting."""
        if not self.enabled:
            return self
        scheme = urlsplit(self.url).scheme
        if scheme not in ("ldap", "ldaps"):
            raise ConfigError(f"{prefix}URL: expected ldaps:// or ldap://, got {self.url!r}")
        if scheme == "ldap" and not self.starttls:
            raise ConfigError(
                f"{prefix}URL: ldap:// sends passwords in the clear; use ldaps:// or set "
                f"{prefix}STARTTLS=true"
            )
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ConfigError(f"{prefix}CA_FILE: {self.ca_file} is not a readable file")
        if not self.base_dn:
            raise ConfigError(f"{prefix}BASE_DN: required when {prefix}URL is set")
        if "{username}" not in self.user_filter:
            raise ConfigError(f"{prefix}USER_FILTER: must contain {{username}}")
        if "{dn}" not in self.group_filter:
            raise ConfigError(f"{prefix}GROUP_FILTER: must contain {{dn}}")
        if bool(self.bind_dn) != bool(self.bind_password):
            raise ConfigError(f"{prefix}BIND_DN and {prefix}BIND_PASSWORD: give both or neither")
        return self


def from_env(environ: Mapping[str, str]) -> LdapSettings:
    def text(name: str, default: str = "") -> str:
        return environ.get(f"EAKTE_LDAP_{name}", default).strip()

    starttls = text("STARTTLS", "false").lower()
    if starttls not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"EAKTE_LDAP_STARTTLS: expected true or false, got {starttls!r}")
    timeout = text("TIMEOUT", "5")
    if not timeout.isdigit() or not 1 <= int(timeout) <= 120:
        raise ConfigError(f"EAKTE_LDAP_TIMEOUT: expected 1-120 seconds, got {timeout!r}")
    local = text("LOCAL_USERS", "admin")
    return LdapSettings(
        url=text("URL"),
        starttls=starttls in ("true", "1", "yes"),
        ca_file=text("CA_FILE"),
        base_dn=text("BASE_DN"),
        user_filter=text("USER_FILTER", AD_USER_FILTER),
        group_base_dn=text("GROUP_BASE_DN"),
        group_filter=text("GROUP_FILTER", DEFAULT_GROUP_FILTER),
        bind_dn=text("BIND_DN"),
        bind_password=environ.get("EAKTE_LDAP_BIND_PASSWORD", ""),
        local_users=tuple(u.strip() for u in local.split(",") if u.strip()),
        tenant=text("TENANT", "default"),
        timeout=int(timeout),
    ).check()


def second_factor_from_env(environ: Mapping[str, str]) -> str:
    value = environ.get("EAKTE_SECOND_FACTOR", "privileged").strip().lower()
    if value not in SECOND_FACTOR_POLICIES:
        raise ConfigError(
            f"EAKTE_SECOND_FACTOR: expected one of {', '.join(SECOND_FACTOR_POLICIES)}, "
            f"got {value!r}"
        )
    return value
