"""eAkte behind a real nginx with TLS (issue 26): deploy/nginx/eakte.conf as shipped, with only
the host's values put in (ports, certificate, upload limit), a self-signed certificate made
here, ``eakte serve`` as the units run it.

Over HTTPS: sign-in (with a forged X-Forwarded-For that must not be believed), the forced
password change (a redirect that must keep https), upload, download of the same bytes; Secure
cookies and HSTS; an upload above EAKTE_MAX_UPLOAD_MB refused by nginx; port 80 redirecting;
``eakte doctor --url`` seeing it all.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from fpdf import FPDF

from tests.deploy.debian import ensure
from tests.ops.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "eakte.conf"
MAX_UPLOAD_MB = 2
FORGED = "203.0.113.66"


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def render_nginx(tmp: Path, https_port: int, http_port: int, app_port: int, cert: Path) -> Path:
    """deploy/nginx/eakte.conf with this host's values, inside a minimal nginx.conf."""
    site = NGINX_CONF.read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/etc/ssl/certs/akte.example.de.pem": str(cert),
        "/etc/ssl/private/akte.example.de.key": str(cert.with_suffix(".key")),
        "client_max_body_size 200m;": f"client_max_body_size {MAX_UPLOAD_MB}m;",
    }
    for old, new in replacements.items():
        assert old in site, f"{old!r} no longer in {NGINX_CONF}"
        site = site.replace(old, new)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {site}
}}
"""
    )
    return conf


def _wait(url: str, proc: subprocess.Popen, verify: str | bool = False, timeout=120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if requests.get(url, timeout=3, verify=verify).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("tls")
    nginx = ensure("nginx", "nginx-light")
    cert = tmp_path / "tls" / "server.pem"
    cert.parent.mkdir()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(cert.with_suffix(".key")), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_DATA_DIR=str(tmp_path / "data"),
        EAKTE_PORT=str(app_port),
        EAKTE_TRUSTED_PROXIES="127.0.0.1",
        EAKTE_MAX_UPLOAD_MB=str(MAX_UPLOAD_MB),
        EAKTE_ADMIN_PASSWORD="admin password for tls",
        EAKTE_CONFIG_FILE=str(tmp_path / "absent.env"),
        EAKTE_LOG_LEVEL="WARNING",
    )

    def eakte(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "eakte", *args],
            env=env, input=stdin, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    eakte("init")
    eakte("orgunit", "add", "32", "Ordnungsamt")
    eakte(
        "user", "add", "sachb", "--role", "clerk", "--org-unit", "32", "--password-stdin",
        stdin="first password here\n",
    )  # fmt: skip
    (tmp_path / "nginx").mkdir()
    conf = render_nginx(tmp_path / "nginx", https_port, http_port, app_port, cert)
    server = subprocess.Popen(
        [sys.executable, "-m", "eakte", "serve", "-w", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proxy = subprocess.Popen(
        [nginx, "-p", str(tmp_path / "nginx"), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"https://127.0.0.1:{https_port}/"
        _wait(f"http://127.0.0.1:{app_port}/healthz", server)
        _wait(base + "healthz", proxy, verify=str(cert))
        yield {
            "base": base,
            "http": f"http://127.0.0.1:{http_port}/",
            "cert": str(cert),
            "env": env,
            "data": tmp_path / "data",
            "eakte": eakte,
        }
    finally:
        for proc in (proxy, server):
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token"
    return found.group(1)


def test_https_through_nginx(stack):
    base, cert = stack["base"], stack["cert"]
    web = requests.Session()
    web.trust_env = False  # REQUESTS_CA_BUNDLE would win over the session's own CA
    web.verify = cert
    web.headers["Referer"] = base  # as browsers send it: Flask-WTF checks it over HTTPS
    # Everything needs a sign-in; the redirect keeps https.
    start = web.get(base, allow_redirects=False)
    assert start.status_code == 302
    assert not start.headers["Location"].startswith("http:")
    login = web.get(base + "login")
    assert login.status_code == 200
    assert login.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert login.url.startswith("https://")
    # Sign-in with a forged X-Forwarded-For: nginx replaces it, eAkte believes nginx only.
    signed = web.post(
        base + "login",
        data={
            "csrf_token": _csrf(login.text),
            "tenant": "default",
            "username": "sachb",
            "password": "first password here",
        },
        headers={"X-Forwarded-For": FORGED, "X-Forwarded-Proto": "http"},
        allow_redirects=False,
    )
    assert signed.status_code == 302, signed.text[:500]
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    location = signed.headers["Location"]
    assert location.endswith("/passwort") and not location.startswith("http:")
    with sqlite3.connect(stack["data"] / "eakte.db") as db:
        seen = [row[0] for row in db.execute("SELECT client_address FROM web_session")]
    assert seen == ["127.0.0.1"], seen  # not the forged 203.0.113.66
    # The forced password change, then upload and download over HTTPS.
    page = web.get(base + "passwort")
    assert page.url.startswith(base)
    changed = web.post(
        base + "passwort",
        data={
            "csrf_token": _csrf(page.text),
            "new": "second password here",
            "repeat": "second password here",
        },
    )
    assert changed.status_code == 200 and changed.url.startswith("https://")
    pdf = _pdf("Antrag über TLS")
    form = web.get(base + "hochladen/")
    uploaded = web.post(
        base + "hochladen/",
        data={"csrf_token": _csrf(form.text), "inbox": "32"},
        files={"files": ("antrag.pdf", pdf, "application/pdf")},
        headers={"Accept": "application/json"},
    )
    assert uploaded.status_code == 200, uploaded.text[:500]
    result = uploaded.json()["results"][0]
    assert result["outcome"] == "accepted", result
    document = web.get(base.rstrip("/") + result["document"])
    version = re.search(r'href="(/dokumente/version/[0-9a-f-]+)"', document.text)
    assert version, "no download link on the document page"
    download = web.get(base.rstrip("/") + version.group(1))
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(pdf).hexdigest()
    # Larger than EAKTE_MAX_UPLOAD_MB: nginx refuses it before eAkte reads it.
    big = web.post(
        base + "hochladen/",
        data={"csrf_token": _csrf(form.text), "inbox": "32"},
        files={"files": ("gross.pdf", b"0" * (MAX_UPLOAD_MB * 1024 * 1024 + 1), "application/pdf")},
    )
    assert big.status_code == 413 and "nginx" in big.text
    # Plain HTTP only redirects to https.
    plain = requests.get(stack["http"] + "login", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


def test_doctor_sees_the_proxy(stack):
    done = subprocess.run(
        [sys.executable, "-m", "eakte", "doctor", "--url", stack["base"], "--ca-file",
         stack["cert"]],
        env=stack["env"], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert re.search(r"^ok +tls: .*HSTS max-age 31536000, Secure cookies", done.stdout, re.M), (
        done.stdout
    )
    assert re.search(r"^ok +proxy: .*trusted proxies: 127.0.0.1/32", done.stdout, re.M)
    # The app itself, reached around nginx: not https, and doctor says so.
    direct = f"http://127.0.0.1:{stack['env']['EAKTE_PORT']}/"
    done = subprocess.run(
        [sys.executable, "-m", "eakte", "doctor", "--url", direct],
        env=stack["env"], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert "PROBLEM tls: " + direct + " is not an https:// address" in done.stdout
