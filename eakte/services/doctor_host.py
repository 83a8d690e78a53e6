"""``eakte doctor``'s checks of the host and of what a browser sees (issue 26).

The clock: retention periods end on dates, and the audit trail and the Object Lock
retain-until are timestamps; a clock that drifts makes both wrong. The check asks, in order,
whoever can tell whether the clock is NTP-synchronised:

1. ``timedatectl show -p NTPSynchronized`` (systemd-timesyncd, or any NTP daemon under systemd);
2. ``chronyc -n tracking`` (chrony: ``Leap status : Normal`` means synchronised);
3. the kernel itself, ``adjtimex(2)`` with no change: every NTP daemon (ntpd, chrony,
   timesyncd) clears ``STA_UNSYNC`` in its status once it has disciplined the clock; the call
   answers ``TIME_ERROR`` while the clock is not synchronised. This works in a container too.

The first that answers decides; the detail names which one it was.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import http.client
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from eakte.config import Settings
from eakte.services.doctor_checks import Finding, note, ok, problem

_TIME_ERROR = 5  # adjtimex(2): clock not synchronised
_STA_UNSYNC = 0x0040
_CLOCK_FIX = (
    "run an NTP client: apt-get install systemd-timesyncd (or chrony) and "
    "timedatectl set-ntp true; in a container, on the host"
)
HSTS_MIN_SECONDS = 180 * 24 * 3600


class _Timex(ctypes.Structure):
    # struct timex of <sys/timex.h> on Linux (the trailing padding as the kernel has it)
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("tv_sec", ctypes.c_long),
        ("tv_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("padding", ctypes.c_int * 11),
    ]


def _run(*argv: str) -> str | None:
    if not shutil.which(argv[0]):
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _timedatectl() -> tuple[bool, str] | None:
    out = _run("timedatectl", "show", "-p", "NTPSynchronized", "--value")
    if out is None or out.strip() not in ("yes", "no"):
        return None  # no systemd as PID 1 (containers): ask the next one
    return out.strip() == "yes", f"timedatectl: NTPSynchronized={out.strip()}"


def _chrony() -> tuple[bool, str] | None:
    out = _run("chronyc", "-n", "tracking")
    if out is None:
        return None
    for line in out.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Leap status":
            return value.strip() == "Normal", f"chronyc tracking: Leap status {value.strip()}"
    return None


def _adjtimex() -> tuple[bool, str] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        timex = _Timex()  # modes 0: read only
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    synced = state != _TIME_ERROR and not timex.status & _STA_UNSYNC
    return synced, (
        f"kernel adjtimex: state {state}{' (TIME_ERROR)' if state == _TIME_ERROR else ''}, "
        f"STA_UNSYNC {'set' if timex.status & _STA_UNSYNC else 'clear'}, "
        f"max error {timex.maxerror / 1e6:.3f} s"
    )


CLOCK_SOURCES: tuple[Callable[[], tuple[bool, str] | None], ...] = (
    _timedatectl,
    _chrony,
    _adjtimex,
)


def clock(sources: tuple[Callable[[], tuple[bool, str] | None], ...] = CLOCK_SOURCES) -> Finding:
    for source in sources:
        answer = source()
        if answer is None:
            continue
        synced, detail = answer
        if synced:
            return ok("clock", f"NTP-synchronised ({detail})")
        return problem("clock", f"not NTP-synchronised ({detail})", _CLOCK_FIX)
    return problem("clock", "nothing could tell whether the clock is synchronised", _CLOCK_FIX)


# ------------------------------------------------------------------------ TLS, proxy


def proxy_settings(settings: Settings) -> list[Finding]:
    found = []
    networks = [ipaddress.ip_network(n) for n in settings.trusted_proxies]
    everyone = [str(n) for n in networks if n.prefixlen == 0]
    if everyone:
        found.append(
            problem(
                "proxy",
                f"EAKTE_TRUSTED_PROXIES trusts every address ({', '.join(everyone)}): any "
                "client can claim HTTPS and any address",
                "list only the proxy's own address, e.g. EAKTE_TRUSTED_PROXIES=127.0.0.1",
            )
        )
    loopback = _is_loopback(settings.host)
    if not loopback and not networks:
        found.append(
            problem(
                "proxy",
                f"eAkte listens on {settings.host} without a TLS proxy in front",
                "listen on EAKTE_HOST=127.0.0.1 behind nginx (deploy/nginx/eakte.conf) and set "
                "EAKTE_TRUSTED_PROXIES=127.0.0.1",
            )
        )
    elif not networks and not settings.secure_cookies:
        found.append(
            problem(
                "proxy",
                "no TLS proxy is trusted (EAKTE_TRUSTED_PROXIES empty): HTTPS is not "
                "recognised, cookies are not Secure, no HSTS",
                "put nginx in front (deploy/nginx/eakte.conf) and set "
                "EAKTE_TRUSTED_PROXIES=127.0.0.1",
            )
        )
    elif not everyone:
        trusted = ", ".join(settings.trusted_proxies) or "none (EAKTE_SECURE_COOKIES=1)"
        found.append(ok("proxy", f"listens on {settings.host}; trusted proxies: {trusted}"))
    return found


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def seen_by_browser(url: str, ca_file: str | None = None) -> list[Finding]:
    """What a browser gets from ``url`` (the address users open): TLS, HSTS, Secure cookies
    on the sign-in page, and a redirect that keeps https."""
    if urlsplit(url).scheme != "https":
        return [
            problem(
                "tls",
                f"{url} is not an https:// address",
                "give users the https:// address of the proxy (deploy/nginx/eakte.conf)",
            )
        ]
    context = ssl.create_default_context(cafile=ca_file)
    base = url.rstrip("/") + "/"
    try:
        login = _get(urljoin(base, "login"), context)
        start = _get(base, context)
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return [problem("tls", f"{url} does not answer over TLS: {exc}", "check the proxy")]
    found = []
    _status, headers = login
    hsts = headers.get("strict-transport-security", "")
    max_age = _max_age(hsts)
    if max_age < HSTS_MIN_SECONDS:
        found.append(
            problem(
                "tls",
                f"no HSTS on {base}login (Strict-Transport-Security: {hsts or 'absent'})",
                "set EAKTE_TRUSTED_PROXIES to the proxy's address and let the proxy send "
                "X-Forwarded-Proto (deploy/nginx/eakte.conf)",
            )
        )
    cookies = headers.get_all("set-cookie") or []
    # A cookie being deleted (empty value: Flask-Login clears its unused remember cookie)
    # carries nothing to protect.
    loose = [
        c.split("=", 1)[0]
        for c in cookies
        if "secure" not in c.lower() and c.split(";", 1)[0].split("=", 1)[-1].strip('" ')
    ]
    if loose:
        found.append(
            problem(
                "tls",
                f"cookies without Secure: {', '.join(loose)}",
                "set EAKTE_TRUSTED_PROXIES to the proxy's address (X-Forwarded-Proto https)",
            )
        )
    _status, headers = start
    location = headers.get("location", "")
    if location.startswith("http://"):
        found.append(
            problem(
                "tls",
                f"the redirect from {base} drops https: {location}",
                "the proxy must send X-Forwarded-Proto $scheme and be trusted "
                "(EAKTE_TRUSTED_PROXIES)",
            )
        )
    if not found:
        found.append(
            ok(
                "tls",
                f"{base}: HTTPS, HSTS max-age {max_age}, Secure cookies, redirects keep https",
            )
        )
    return found


def _get(url: str, context: ssl.SSLContext) -> tuple[int, http.client.HTTPMessage]:
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(
        parts.hostname or "", parts.port or 443, timeout=15, context=context
    )
    try:
        conn.request("GET", parts.path or "/")
        response = conn.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        conn.close()


def _max_age(hsts: str) -> int:
    for part in hsts.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return int(value)
    return 0


def second_factor() -> Finding:
    return note("second factor", "eAkte has no second factor yet: nothing to check")
