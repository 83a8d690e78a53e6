"""The load side of ``web_load_bench.py``: locust users that sign in as clerks and then open
the search page and case pages with a 2-5 s pause in between, as people do.

Run as a child process by ``web_load_bench.py`` (locust patches the standard library with
gevent on import; the parent's set-up, subprocesses and multiprocessing stay unpatched):

    python bench/_web_load_users.py PLAN.json RESULT.json

PLAN.json names the server, the accounts (each with case UUIDs its clerk may open), the search
words and the phases. RESULT.json receives the raw response times of every measured request,
phase by phase; the parent prints the figures. Every request goes to the plan's URL, which the
parent sets to 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import gevent
from locust import FastHttpUser, between, task
from locust.env import Environment

PLAN: dict = {}
PAGES = ("search page", "case page")
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_next_account = itertools.count()


class Clerk(FastHttpUser):
    """A clerk: signs in through the form (CSRF token from the page), then works."""

    wait_time = between(2, 5)
    network_timeout = 120.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        n = next(_next_account)
        account = PLAN["accounts"][n % len(PLAN["accounts"])]
        self.rng = random.Random(PLAN["seed"] * 1_000 + n)
        self.cases = account["cases"]
        form = self.client.get("/login", name="sign-in form")
        match = _TOKEN.search(form.text or "")
        body = urlencode(
            {
                "csrf_token": match.group(1) if match else "",
                "tenant": "default",
                "username": account["username"],
                "password": PLAN["password"],
            }
        )
        with self.client.post(
            "/login",
            name="sign-in",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # Success is the redirect to the start page; the form again means it failed.
            if response.status_code != 302:
                response.failure(f"sign-in as {account['username']}: {response.status_code}")

    def _page(self, path: str, name: str) -> None:
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{name}: HTTP {response.status_code}")

    @task
    def search_page(self) -> None:
        word = self.rng.choice(PLAN["words"])
        self._page(f"/suche/?q={quote(word)}", "search page")

    @task
    def case_page(self) -> None:
        self._page(f"/akten/{self.rng.choice(self.cases)}", "case page")


class Recorder:
    """Raw response times of the measured pages, only while a window is open."""

    def __init__(self) -> None:
        self.samples: list[tuple[str, float, bool]] | None = None
        self.errors: dict[str, int] = {}
        self.signins: list[tuple[float, bool]] = []  # every sign-in POST: (ms, succeeded)

    def on_request(self, name, response_time, exception=None, **_kw) -> None:
        if name == "sign-in":
            self.signins.append((response_time, exception is None))
        if exception is not None:
            key = f"{name}: {str(exception)[:120]}"
            self.errors[key] = self.errors.get(key, 0) + 1
        if self.samples is not None and name in PAGES:
            self.samples.append((name, response_time, exception is None))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _window(runner, recorder: Recorder, users: int, spawn_rate: float, settle: float,
            seconds: float, server_pid: int) -> dict:  # fmt: skip
    """Bring the user count to ``users`` and wait until all have signed in and the server's
    queue had ``settle`` seconds to drain (not measured), then measure for ``seconds``.

    Sign-ins are kept out of the window: a sign-in holds the database's write lock while the
    password hash is checked, so a wave of them stalls the case page (which writes its audit
    entry) for seconds; they are reported on their own.
    """
    signins_before = len(recorder.signins)
    runner.start(users, spawn_rate=spawn_rate)
    deadline = time.monotonic() + users / spawn_rate + 300
    while len(recorder.signins) < users and time.monotonic() < deadline:
        gevent.sleep(0.25)
    ramp_signins = recorder.signins[signins_before:]
    gevent.sleep(settle)
    recorder.samples = []
    server_cpu, own_cpu = _cpu_seconds(server_pid), time.process_time()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    samples, recorder.samples = recorder.samples, None
    return {
        "users": runner.user_count,
        "signins": ramp_signins,
        "seconds": elapsed,
        "samples": samples,
        "server_cpu": (_cpu_seconds(server_pid) - server_cpu) / elapsed,
        "locust_cpu": (time.process_time() - own_cpu) / elapsed,
        "load": os.getloadavg()[0],
    }


def _p95(samples) -> float:
    ordered = sorted(t for _name, t, _ok in samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))] if ordered else 0


def main(plan_path: str, result_path: str) -> None:
    PLAN.update(json.loads(Path(plan_path).read_text()))
    Clerk.host = PLAN["url"]
    recorder = Recorder()
    env = Environment(user_classes=[Clerk])
    env.events.request.add_listener(recorder.on_request)
    runner = env.create_local_runner()
    result: dict = {"steps": []}
    try:
        a = PLAN["phase_a"]
        print(f"phase A: {a['users']} users, measuring {a['seconds']:.0f} s", flush=True)
        result["phase_a"] = _window(runner, recorder, a["users"], a["spawn_rate"], a["settle"],
                                    a["seconds"], PLAN["server_pid"])  # fmt: skip
        b = PLAN["phase_b"]
        for users in b["steps"]:
            print(f"phase B: step of {users} users, measuring {b['seconds']:.0f} s", flush=True)
            step = _window(runner, recorder, users, b["spawn_rate"], b["settle"], b["seconds"],
                           PLAN["server_pid"])  # fmt: skip
            result["steps"].append(step)
            refused = any(not ok for _t, ok in step["signins"])
            if refused or _p95(step["samples"]) > b["threshold_ms"]:
                break
    finally:
        runner.quit()
        result["errors"] = recorder.errors
        Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
