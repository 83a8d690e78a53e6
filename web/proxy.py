"""The scheme a request came in with when a TLS-terminating proxy stands in front (issue 26).

nginx or Caddy speak HTTPS with the browser and plain HTTP with eAkte on 127.0.0.1. Only a
peer listed in EAKTE_TRUSTED_PROXIES (addresses or networks; none by default) is believed when
its ``X-Forwarded-Proto`` says https: the WSGI environ's ``wsgi.url_scheme`` becomes https, so
every URL Flask builds (redirects, ``next=``), the cookies' Secure flag and HSTS follow it. A
client that sends the header itself, not through a trusted proxy, changes nothing. The client's
address is read the same way by :func:`web.security.client_address`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ForwardedScheme:
    """WSGI middleware: ``wsgi.url_scheme`` from a trusted proxy's X-Forwarded-Proto."""

    def __init__(self, app: Callable[..., Any], trusted: Iterable[str]):
        self.app = app
        self.networks: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in trusted)

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.networks and self.trusted(environ.get("REMOTE_ADDR", "")):
            # The proxy nearest to us appends last: its word is the last entry.
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
                if proto == "https":
                    environ["HTTPS"] = "on"
        return self.app(environ, start_response)
