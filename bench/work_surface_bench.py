"""Work-surface benchmark (issue 22): a clerk files inbox letters into cases by keyboard in
Chromium (Playwright), against ``eakte serve`` with N documents loaded (default 100,000).

    python bench/work_surface_bench.py                                   # 100,000 documents
    python bench/work_surface_bench.py --docs 20000 --data-dir /tmp/ws20k  # keep and reuse

Set-up: the installation of ``web_load_bench.py`` (the same loader and marker, so one kept
``--data-dir`` serves both): org units, clerks, the file plan, cases with three processes each
and N documents written straight into the tables — METADATA AND TEXT ONLY, no file bytes, so
the document page shows no page images (it has nothing to render; previews are lazy images and
load after the page anyway). About 5 % of the documents lie in inboxes.

The clerk (the first clerk of the Ordnungsamt, 32; its inbox holds the letters of 32 and
32.2) works through the inbox by keyboard only, for ``--letters`` letters (default 50):

  on the inbox page ``j`` (first row) and ``Enter`` open the first letter; then per letter
  ``f`` (to the filing field), the shortest piece of the target case's file reference (its
  serial number "0123/2019" first, then the whole reference from the left) that makes it the
  first suggestion, ``Enter`` (files into it; the page goes on to the next letter).

Every key press is counted. Timed (wall clock in the driving process, the browser on the same
machine): *filing* — from ``Enter`` to the next letter's page loaded (``load`` event, the
title in the DOM); *suggestions* — from the last typed key to the first suggestion shown;
*next* — ``j`` on a letter's page to the next letter loaded (measured on ``--letters`` more
steps without filing); *floor* — a navigation to ``/healthz`` (no database, no template) in
the same run, to read the figures against on a shared machine. p50/p95/max in ms are printed;
the goal is p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from search_bench import load, percentile  # noqa: E402
from web_load_bench import (  # noqa: E402
    MARKER,
    PASSWORD,
    _clerk,
    _env,
    _free_port,
    build,
    start_server,
    stop_server,
)

CHROMIUM = "/usr/bin/chromium"
UNIT = "32"


def targets(env: dict[str, str], count: int) -> list[tuple[str, str]]:
    """(file reference, the prefix to type) for ``count`` open cases the clerk may file into:
    the shortest prefix whose first suggestion (the type-ahead's own query) is that case."""
    from eakte import ports
    from eakte.config import Settings
    from eakte.db import make_engine, make_session_factory
    from eakte.services import accounts, worklist
    from retention.port import RetentionService

    engine = make_engine(Settings.from_env(env).database_url)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())
    chosen: list[tuple[str, str]] = []
    with sessions() as s:
        clerk = accounts.find_user(s, accounts.get_tenant(s, "default"), _clerk(UNIT, 0))
        for case in worklist.find_cases(s, clerk, "3", limit=400, for_filing=True):
            if not case.processes or len(chosen) >= count:
                continue
            ref = case.file_reference
            serial = ref.rsplit("-", 1)[-1]  # "0123/2019": what a clerk has on the letter
            tries = [serial.lstrip("0")[:k] for k in range(2, len(serial) + 1)]
            tries += [serial[:k] for k in range(3, len(serial) + 1)]
            tries += [ref[:k] for k in range(2, len(ref) + 1)]
            for text in sorted(set(tries), key=len):
                # the page lists only cases with a process to file into
                found = worklist.find_cases(s, clerk, text, for_filing=True)
                first = [c for c in found if c.processes]
                if first and first[0].file_reference == ref:
                    chosen.append((ref, text))
                    break
    engine.dispose()
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} open cases to file into")
    return chosen


def _stats(name: str, samples: list[float]) -> str:
    ms = sorted(x * 1000 for x in samples)
    return (
        f"  {name:<12} n={len(ms):>3}  p50 {percentile(ms, 0.5):6.0f} ms  "
        f"p95 {percentile(ms, 0.95):6.0f} ms  max {ms[-1]:6.0f} ms"
    )


def drive(url: str, letters: int, plan: list[tuple[str, str]], headed: bool) -> dict:
    from playwright.sync_api import sync_playwright

    keys = {"open": 0, "file": 0}
    filing, suggest, nexts = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=not headed, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(
            locale="de-DE", viewport={"width": 1280, "height": 900}
        ).new_page()
        page.goto(f"{url}/login")
        page.get_by_label("Benutzername").fill(_clerk(UNIT, 0))
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/posteingang/")
        total = page.locator("h1 .count").inner_text()
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        keys["open"] += 2
        page.wait_for_selector("#doc-title")
        for n in range(letters):
            ref, prefix = plan[n]
            before = page.url
            page.keyboard.press("f")
            page.keyboard.type(prefix[:-1])
            started = time.perf_counter()
            page.keyboard.press(prefix[-1])
            # the answer to the whole text (an earlier answer may still be on screen)
            page.locator('[role="option"][aria-selected="true"]', has_text=ref).wait_for()
            suggest.append(time.perf_counter() - started)
            first = page.locator('[role="option"]').first.inner_text()
            assert first.startswith(ref), f"first suggestion {first!r}, wanted {ref}"
            started = time.perf_counter()
            page.keyboard.press("Enter")
            page.wait_for_url(lambda u, b=before: u != b)
            page.wait_for_selector("#doc-title")
            filing.append(time.perf_counter() - started)
            keys["file"] += 1 + len(prefix) + 1
        for _ in range(letters):
            before = page.url
            started = time.perf_counter()
            page.keyboard.press("j")
            page.wait_for_url(lambda u, b=before: u != b)
            page.wait_for_selector("#doc-title")
            nexts.append(time.perf_counter() - started)
        floor = []  # the same machine's floor: a navigation to a page that does nothing
        for _ in range(letters):
            started = time.perf_counter()
            page.goto(f"{url}/healthz")
            floor.append(time.perf_counter() - started)
        browser.close()
    return {
        "inbox": total,
        "keys": keys,
        "filing": filing,
        "suggest": suggest,
        "next": nexts,
        "floor": floor,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000, help="documents to load")
    parser.add_argument("--seed", type=int, default=5, help="corpus seed")
    parser.add_argument("--letters", type=int, default=50, help="letters filed by keyboard")
    parser.add_argument("--data-dir", type=Path, help="keep the installation here and reuse it")
    parser.add_argument("--processes", type=int, default=2, help="corpus generator processes")
    parser.add_argument("--headed", action="store_true", help="show the browser")
    args = parser.parse_args(argv)

    work = args.data_dir or Path(tempfile.mkdtemp(prefix="work-surface-bench-"))
    data_dir = work.resolve()
    env = _env(data_dir, _free_port())
    print(f"work surface benchmark: {args.docs} documents, {args.letters} letters; {load()}")
    server = None
    try:
        marker = data_dir / MARKER
        if marker.exists():
            kept = json.loads(marker.read_text())
            if kept != {"docs": args.docs, "seed": args.seed}:
                raise SystemExit(f"{data_dir} holds {kept}, not --docs {args.docs}")
            print(f"reusing the installation in {data_dir} (letters already filed stay filed)")
        else:
            build(data_dir, env, args.docs, args.seed, args.processes)
        plan = targets(env, args.letters)
        server = start_server(env, data_dir / "serve.log")
        url = f"http://127.0.0.1:{env['EAKTE_PORT']}"
        result = drive(url, args.letters, plan, args.headed)
        keys = result["keys"]
        print(f"inbox of {_clerk(UNIT, 0)}: {result['inbox']} letters before; {load()}")
        print(
            f"  key presses: {keys['open']} to open the first letter, then "
            f"{keys['file'] / args.letters:.1f} per letter filed "
            f"(f + {sum(len(p) for _, p in plan[: args.letters]) / args.letters:.1f} "
            "characters of the file reference + Enter)"
        )
        print(_stats("filing", result["filing"]))
        print(_stats("suggestions", result["suggest"]))
        print(_stats("next (j)", result["next"]))
        print(_stats("floor", result["floor"]) + "  (GET /healthz: the loaded machine's floor)")
        print(f"done; {load()}")
    finally:
        if server is not None:
            stop_server(server)
        if not args.data_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
