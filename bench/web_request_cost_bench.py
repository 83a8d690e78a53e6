"""What one request to the search page and the case page costs the server, for one or more
checkouts of eAkte side by side (issue 15: "no web figure more than 5 % worse").

    python bench/web_request_cost_bench.py --docs 10000 --data-dir /tmp/wl10k \\
        --checkout /path/to/old --checkout /path/to/new --rounds 3 --instructions

The installation is the one of ``web_load_bench.py`` (same --docs, --seed and --data-dir: it is
built there when absent, by the checkout this script lives in). Each round starts ``eakte serve``
from every checkout in turn (``PYTHONPATH`` set to it) on a fresh copy of that data (every case
page view adds to the case's history, which the page shows: without the copy, whichever checkout
runs later would render longer pages), signs in as a clerk and sends
the same fixed sequence of requests one after another: warm-up requests, then --requests search
pages and --requests case pages. Per checkout and page it prints the server's CPU time per request
(user + system of the server process, from /proc), the wall time per request (median, p95) and,
with --instructions, the instructions per request counted by valgrind's callgrind (the server
runs under it; counters are zeroed before and dumped after each measured block). Instruction
counts do not depend on what else the machine is doing, so they compare checkouts on a busy
machine; CPU and wall time do, and are the medians over rounds that alternate the checkouts.
The ratios are against the first checkout, measured in the same run.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from search_bench import load  # noqa: E402
from web_load_bench import (  # noqa: E402
    MARKER,
    PASSWORD,
    WORDS,
    _env,
    _free_port,
    accounts_plan,
    build,
    stop_server,
)

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_TOTAL = re.compile(rb"^(?:summary|totals):\s+(\d+)", re.MULTILINE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


class Server:
    """``eakte serve`` from one checkout, optionally under callgrind."""

    def __init__(self, checkout: Path, env: dict[str, str], instructions: bool, log: Path):
        self.env = dict(env, PYTHONPATH=str(checkout), PYTHONHASHSEED="0")
        self.instructions = instructions
        self.dumps = Path(tempfile.mkdtemp(prefix="callgrind-"))
        command = [sys.executable, "-m", "eakte", "serve"]
        if instructions:
            command = [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=yes",
                f"--callgrind-out-file={self.dumps}/callgrind.out.%p",
                *command,
            ]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=checkout,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{env['EAKTE_PORT']}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        deadline = time.monotonic() + (900 if instructions else 180)
        while True:
            try:
                self.get("/login")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(
                        f"eakte serve from {checkout} did not start:\n" + log.read_text()[-3000:]
                    ) from None
                time.sleep(1)

    def get(self, path: str) -> bytes:
        with self.opener.open(self.url + path, timeout=600) as response:
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
            return response.read()

    def sign_in(self, username: str) -> None:
        token = _TOKEN.search(self.get("/login").decode())
        body = urllib.parse.urlencode(
            {
                "csrf_token": token.group(1) if token else "",
                "tenant": "default",
                "username": username,
                "password": PASSWORD,
            }
        ).encode()
        with self.opener.open(self.url + "/login", data=body, timeout=600) as response:
            page = response.read().decode()
        if 'name="password"' in page:
            raise SystemExit(f"sign-in as {username} failed")

    def _callgrind(self, option: str) -> None:
        subprocess.run(
            ["callgrind_control", option, str(self.proc.pid)], check=True, capture_output=True
        )

    def measure(self, paths: list[str]) -> dict:
        """Send ``paths`` one after another: CPU s, wall s per request, instructions in all."""
        if self.instructions:
            for old in self.dumps.glob("callgrind.out.*"):
                old.unlink()
            self._callgrind("-z")
        cpu = _cpu_seconds(self.proc.pid)
        walls = []
        for path in paths:
            started = time.perf_counter()
            self.get(path)
            walls.append(time.perf_counter() - started)
        cpu = _cpu_seconds(self.proc.pid) - cpu
        figures = {"cpu": cpu / len(paths), "walls": walls}
        if self.instructions:
            self._callgrind("-d")
            dumps = sorted(self.dumps.glob("callgrind.out.*.*"))  # the dump just made
            total = _TOTAL.search(dumps[-1].read_bytes()) if dumps else None
            if total is None:
                raise SystemExit("callgrind wrote no dump with a total")
            figures["instructions"] = int(total.group(1)) / len(paths)
        return figures

    def stop(self) -> None:
        stop_server(self.proc)
        shutil.rmtree(self.dumps, ignore_errors=True)


def _sequence(accounts: list[dict], seed: int, count: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    cases = accounts[0]["cases"]
    searches = [f"/suche/?q={urllib.parse.quote(rng.choice(WORDS))}" for _ in range(count)]
    case_pages = [f"/akten/{rng.choice(cases)}" for _ in range(count)]
    return searches, case_pages


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=10_000, help="documents in the installation")
    parser.add_argument("--seed", type=int, default=5, help="corpus and user seed")
    parser.add_argument("--data-dir", type=Path, required=True, help="web_load_bench installation")
    parser.add_argument(
        "--checkout",
        type=Path,
        action="append",
        help="an eAkte checkout to serve from (repeat; default: this one)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all checkouts")
    parser.add_argument("--requests", type=int, default=100, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per page")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with callgrind (slow)"
    )
    args = parser.parse_args(argv)
    checkouts = [c.resolve() for c in (args.checkout or [HERE.parent])]
    data_dir = args.data_dir.resolve()
    port = _free_port()
    env = _env(data_dir, port)
    marker = data_dir / MARKER
    if not marker.exists():
        print(f"building the installation in {data_dir}; {load()}", flush=True)
        build(data_dir, env, args.docs, args.seed, processes=2)
    elif json.loads(marker.read_text()) != {"docs": args.docs, "seed": args.seed}:
        raise SystemExit(f"{data_dir} holds {marker.read_text()}, not --docs/--seed asked")
    accounts = accounts_plan(env, args.seed)
    warm_search, warm_case = _sequence(accounts, args.seed + 1, args.warmup)
    searches, case_pages = _sequence(accounts, args.seed, args.requests)
    print(
        f"web request cost: {args.docs} documents, {args.requests} requests per page, "
        f"{args.rounds} rounds, {'with' if args.instructions else 'without'} callgrind; "
        f"{load()}",
        flush=True,
    )
    results: dict[Path, dict[str, dict[str, list[float]]]] = {
        c: {
            page: {"cpu": [], "wall": [], "p95": [], "instructions": []}
            for page in ("search", "case")
        }
        for c in checkouts
    }
    for round_no in range(1, args.rounds + 1):
        for checkout in checkouts if round_no % 2 else reversed(checkouts):
            copy = Path(tempfile.mkdtemp(prefix="web-cost-")) / "data"
            try:
                shutil.copytree(
                    data_dir, copy, ignore=shutil.ignore_patterns("*.log", "*.lock", "*.sock")
                )
                server = Server(checkout, _env(copy, port), args.instructions, copy / "serve.log")
            except BaseException:
                shutil.rmtree(copy.parent, ignore_errors=True)
                raise
            try:
                server.sign_in(accounts[0]["username"])
                server.measure(warm_search + warm_case)
                for page, paths in (("search", searches), ("case", case_pages)):
                    figures = server.measure(paths)
                    row = results[checkout][page]
                    row["cpu"].append(figures["cpu"])
                    row["wall"].append(_median(figures["walls"]))
                    row["p95"].append(_p95(figures["walls"]))
                    if "instructions" in figures:
                        row["instructions"].append(figures["instructions"])
                    print(
                        f"  round {round_no} {checkout.name:>12} {page:>6}: "
                        f"CPU {figures['cpu'] * 1000:7.2f} ms/request, wall p50 "
                        f"{_median(figures['walls']) * 1000:7.2f} ms"
                        + (
                            f", {figures['instructions'] / 1e6:8.2f} M instructions/request"
                            if "instructions" in figures
                            else ""
                        )
                        + f"; {load()}",
                        flush=True,
                    )
            finally:
                server.stop()
                shutil.rmtree(copy.parent, ignore_errors=True)
    base = checkouts[0]
    print("\nmedians over rounds (ratio to the first checkout):")
    for checkout in checkouts:
        for page in ("search", "case"):
            row, ref = results[checkout][page], results[base][page]
            parts = []
            for key, unit, scale in (
                ("cpu", "ms CPU", 1000),
                ("wall", "ms wall p50", 1000),
                ("p95", "ms wall p95", 1000),
                ("instructions", "M instr", 1e-6),
            ):
                if row[key]:
                    value, reference = _median(row[key]), _median(ref[key])
                    parts.append(f"{value * scale:.2f} {unit} ({value / reference:.3f}x)")
            print(f"  {checkout.name:>12} {page:>6}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
