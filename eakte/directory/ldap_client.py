"""Talking to the directory with ldap3: TLS always (LDAPS or StartTLS), the certificate verified.

A person proves their password by a bind with their own DN; the lookup before it (and the
nightly sync) binds with the service account, or anonymously where the directory allows it.
Passwords are never logged: ldap3's own logging stays off, and errors name only the server.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ldap3
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from eakte.directory.settings import LdapSettings
from eakte.errors import DirectoryUnavailable

log = logging.getLogger(__name__)

MAX_GROUPS = 1000  # a person's groups read at most (bounded answer)


@dataclass(frozen=True)
class DirectoryEntry:
    dn: str
    username: str
    display_name: str
    mail: str
    groups: tuple[str, ...] = ()  # lower-case DNs


def _close(conn: ldap3.Connection) -> None:
    with contextlib.suppress(ldap_errors.LDAPException, OSError):
        conn.unbind()  # a broken connection has nothing left to close


class DirectoryClient:
    def __init__(self, config: LdapSettings):
        self.config = config

    def _server(self) -> ldap3.Server:
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            version=ssl.PROTOCOL_TLS_CLIENT,
            ca_certs_file=self.config.ca_file or None,
        )
        return ldap3.Server(
            self.config.url,
            use_ssl=self.config.url.lower().startswith("ldaps://"),
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=self.config.timeout,
        )

    @contextmanager
    def _bound(self, dn: str, password: str) -> Iterator[ldap3.Connection | None]:
        """A connection bound as ``dn`` (anonymous when empty), or None when the directory
        refuses the credentials; ``DirectoryUnavailable`` when it cannot be reached at all."""
        conn = ldap3.Connection(
            self._server(),
            user=dn or None,
            password=password or None,
            authentication=ldap3.SIMPLE if dn else ldap3.ANONYMOUS,
            receive_timeout=self.config.timeout,
            raise_exceptions=False,
            read_only=True,
        )
        try:
            conn.open()
            if self.config.starttls and not conn.start_tls():
                raise DirectoryUnavailable(f"StartTLS with {self.config.url} failed")
            bound = conn.bind()
        except ldap_errors.LDAPException as exc:
            _close(conn)
            # the exception's text names the server and the failure, never the password
            raise DirectoryUnavailable(f"directory {self.config.url}: {exc}") from None
        except (ssl.SSLError, OSError) as exc:
            _close(conn)
            raise DirectoryUnavailable(f"directory {self.config.url}: TLS failed ({exc})") from None
        try:
            if not bound:
                code = conn.result.get("result") if conn.result else None
                if code not in (49, 50, 53):  # invalid credentials, no access, unwilling
                    raise DirectoryUnavailable(
                        f"directory {self.config.url}: bind failed "
                        f"({conn.result.get('description') if conn.result else 'no answer'})"
                    )
                yield None
            else:
                yield conn
        finally:
            _close(conn)

    @contextmanager
    def _service(self) -> Iterator[ldap3.Connection]:
        with self._bound(self.config.bind_dn, self.config.bind_password) as conn:
            if conn is None:
                raise DirectoryUnavailable(
                    f"directory {self.config.url}: the service account was refused"
                )
            yield conn

    def _search(self, conn: ldap3.Connection, base: str, query: str, attributes, limit: int):
        try:
            ok = conn.search(
                base, query, attributes=attributes, size_limit=limit, time_limit=self.config.timeout
            )
        except ldap_errors.LDAPException as exc:
            raise DirectoryUnavailable(
                f"directory {self.config.url}: search failed ({exc})"
            ) from None
        code = conn.result.get("result") if conn.result else None
        if not ok and code not in (0, 4, 32):  # success, size limit exceeded, no such object
            raise DirectoryUnavailable(
                f"directory {self.config.url}: search failed ({conn.result.get('description')})"
            )
        return list(conn.entries)

    def _find(self, conn: ldap3.Connection, username: str) -> DirectoryEntry | None:
        query = self.config.user_filter.replace("{username}", escape_filter_chars(username))
        found = self._search(
            conn,
            self.config.base_dn,
            query,
            ["cn", "displayName", "mail", "uid", "sAMAccountName"],
            2,
        )
        if len(found) != 1:  # none, or ambiguous: nobody is signed in as a guess
            if len(found) > 1:
                log.warning("directory lookup of %r matched several entries", username)
            return None
        entry = found[0]

        def first(name: str) -> str:
            if name in entry.entry_attributes and entry[name].values:
                return str(entry[name].values[0])
            return ""

        groups = self._groups(conn, entry.entry_dn)
        return DirectoryEntry(
            dn=entry.entry_dn,
            username=username,
            display_name=first("displayName") or first("cn") or username,
            mail=first("mail"),
            groups=groups,
        )

    def _groups(self, conn: ldap3.Connection, dn: str) -> tuple[str, ...]:
        query = self.config.group_filter.replace("{dn}", escape_filter_chars(dn))
        base = self.config.group_base_dn or self.config.base_dn
        found = self._search(conn, base, query, [], MAX_GROUPS)
        return tuple(sorted(e.entry_dn.lower() for e in found))

    def lookup(self, username: str) -> DirectoryEntry | None:
        """The one entry the user filter finds for ``username`` (with its groups), else None."""
        with self._service() as conn:
            return self._find(conn, username)

    def authenticate(self, username: str, password: str) -> DirectoryEntry | None:
        """The person's entry if ``password`` is theirs (a bind as their DN), else None."""
        if not password or not username:
            return None  # an empty password would be an anonymous ("unauthenticated") bind
        entry = self.lookup(username)
        if entry is None:
            return None
        with self._bound(entry.dn, password) as conn:
            return entry if conn is not None else None
