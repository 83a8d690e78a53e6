"""Make the data set of an installation of a release, with that release's code (issue 26).

    git worktree add --detach /tmp/eakte-v0.1.0 v0.1.0
    PYTHONPATH=/tmp/eakte-v0.1.0 /work/main/.venv/bin/python tests/deploy/make_release_fixture.py \
        tests/deploy/fixtures/v0.1.0.tar.gz

Runs ``python -m eakte`` with whatever ``eakte`` is first on PYTHONPATH: init, an org unit, a
clerk, three PDFs imported and processed by the worker (text, PDF/A, index), a clean
``eakte verify``, a backup with ``--with-objects``; then stops everything and packs the data
dir (SQLite database, the embedded SeaweedFS store with its credentials and keys, the search
index) and the backup. Objects are locked for 100 years (the test's copy must not expire).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from fpdf import FPDF

ADMIN_PASSWORD = "release fixture admin"
CLERK_PASSWORD = "release fixture clerk"
TEXTS = (
    "Antrag auf Baugenehmigung Flurstueck 17",
    "Bescheid Gewerbeanmeldung Baeckerei Schmidt",
    "Widerspruch gegen Gebuehrenbescheid 2026",
)


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def main(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="eakte-release-"))
    data = work / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_DATA_DIR=str(data),
        EAKTE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        EAKTE_MIN_RETENTION_DAYS="36500",
        EAKTE_SECRET_KEY="release fixture secret key",
        EAKTE_CONFIG_FILE=str(work / "none.env"),
        EAKTE_LOG_LEVEL="WARNING",
    )

    def eakte(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "eakte", *args],
            env=env, input=stdin, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"eakte {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    print(eakte("--version").strip())
    eakte("init")
    eakte("orgunit", "add", "32", "Ordnungsamt")
    eakte(
        "user", "add", "sachb", "--role", "clerk", "--org-unit", "32", "--password-stdin",
        stdin=CLERK_PASSWORD + "\n",
    )  # fmt: skip
    inbox = work / "scans"
    inbox.mkdir()
    for number, text in enumerate(TEXTS, 1):
        (inbox / f"scan-{number}.pdf").write_bytes(_pdf(text))
    print(eakte("import", str(inbox), "--org-unit", "32", "--user", "sachb").strip())
    worker = subprocess.Popen([sys.executable, "-m", "eakte", "worker"], env=env)
    try:
        deadline = time.monotonic() + 600
        while "Flurstueck" not in eakte("search", "Flurstueck", "--user", "sachb"):
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not process the import in 10 minutes")
            time.sleep(3)
        time.sleep(10)  # the other two documents
    finally:
        worker.terminate()
        worker.wait(timeout=120)
    eakte("init")  # v0.1.0's worker left data/metrics 0755; init repairs that
    print(eakte("verify").strip().splitlines()[-1])
    # the backup the upgrade procedure makes first, with the old version (rollback: restore)
    print(eakte("backup", "--with-objects", str(work / "backup")).strip())
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted([*data.rglob("*"), *(work / "backup").rglob("*")]):
            relative = path.relative_to(work)
            if relative.parts[1] in ("metrics", "spool") or path.suffix == ".lock":
                continue
            if path.is_file() or path.is_dir():
                tar.add(path, arcname=str(relative), recursive=False)
    print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
