"""Browser tests: Playwright drives Debian's Chromium against `eakte serve` (waitress, the
embedded SeaweedFS, a worker) in a subprocess; axe-core checks every page reached."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eakte import ports, schema
from eakte.config import Settings
from eakte.db import make_engine, make_session_factory
from eakte.models import Role
from eakte.services import accounts, fileplan
from retention import schedules
from retention.port import RetentionService

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "browser test password"
PLAN = (
    "code;title;parent;schedule;org_unit\n"
    "32;Öffentliche Sicherheit und Ordnung;;;32\n"
    "32.10;Gewerbeangelegenheiten;32;Gewerbe 10 Jahre;32\n"
    "32.10.05;Gewerbeanmeldungen;32.10;;32\n"
)


def _ensure_chromium() -> None:
    """Install Debian's chromium where it is missing, as the README's test command promises."""
    if CHROMIUM.exists():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=1200
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run an `eakte` command against this installation."""
        return subprocess.run(
            [sys.executable, "-m", "eakte", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )


def _seed(settings: Settings) -> None:
    """A town hall: an officer pair, a clerk, scanning staff, a schedule and a file plan."""
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())  # what the runtime does
    with sessions() as s:
        tenant = accounts.ensure_default_tenant(s)
        admin = accounts.create_user(s, tenant, "admin", PASSWORD, {Role.admin})
        accounts.add_org_unit(s, admin, "32", "Ordnungsamt")
        accounts.add_org_unit(s, admin, "10", "Hauptamt")
        users = [
            ("sachb", "Sabine Sachbearbeiterin", Role.clerk, "32"),
            ("scan", "Stefan Scanstelle", Role.scanner, "32"),
            ("registratur", "Rita Registratur", Role.records_officer, "10"),
            ("registratur2", "Rolf Registratur", Role.records_officer, "10"),
        ]
        for name, display, role, unit in users:
            accounts.create_user(
                s, tenant, name, PASSWORD, {role}, display_name=display, org_unit_code=unit
            )
        officer = accounts.find_user(s, tenant, "registratur")
        schedules.create_schedule(
            s, officer, "Gewerbe 10 Jahre", period_years=10, action="V", legal_basis="GewO § 14"
        )
        fileplan.import_csv(s, officer, PLAN.encode())
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    _ensure_chromium()
    data_dir = tmp_path_factory.mktemp("live") / "data"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_DATA_DIR=str(data_dir),
        EAKTE_PORT=str(port),
        EAKTE_WORKERS="1",
        EAKTE_ADMIN_PASSWORD=PASSWORD,
        # issue 19's second factor has its own journey (test_directory_journey.py)
        EAKTE_SECOND_FACTOR="off",
        # issue 16: the desk's journeys let a day pass by writing this file (absent: real time)
        EAKTE_WORKFLOW_CLOCK_FILE=str(data_dir.parent / "workflow-clock"),
    )
    settings = Settings.from_env(env)
    settings.ensure_data_dir()
    _seed(settings)
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "eakte", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("eakte serve did not start:\n" + (data_dir / "serve.log").read_text())
        time.sleep(0.3)
    try:
        yield LiveServer(url, data_dir, env)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Per module: Playwright's sync API keeps an event loop running in this thread while it
    is open, and a test run next on the same worker that calls ``asyncio.run`` (pyHanko signs
    and validates that way) would fail."""
    from playwright.sync_api import sync_playwright

    _ensure_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
    context.close()


class Journey:
    """A person's path through the UI: every page reached is screenshot and axe-checked."""

    def __init__(self, page, server: LiveServer, name: str):
        self.page, self.server, self.name, self.step = page, server, name, 0
        self.checked: list[str] = []

    def sign_in(self, username: str) -> None:
        self.page.goto(f"{self.server.url}/login")
        self.check()
        self.page.get_by_label("Benutzername").fill(username)
        self.page.get_by_label("Passwort").fill(PASSWORD)
        self.page.get_by_role("button", name="Anmelden").click()
        self.page.wait_for_url(f"{self.server.url}/")
        self.check()

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.server.url}{path}")
        self.check()

    def check(self) -> None:
        """Screenshot, then axe-core: no serious or critical violation (WCAG 2.1 AA)."""
        from axe_playwright_python.sync_playwright import Axe

        self.page.wait_for_load_state("networkidle")
        self.step += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.name}-{self.step:02d}.png"), full_page=True
        )
        results = Axe().run(
            self.page,
            options={
                "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            },
        )
        bad = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        assert not bad, f"{self.page.url}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in bad
        )
        self.checked.append(self.page.url)


@pytest.fixture
def journey(page, live_server, request):
    return Journey(page, live_server, request.node.name)
