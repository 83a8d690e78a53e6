"""Benchmark: the hostile-file corpus (tests/ingest/hostile.py) through a real installation
(issue 14): each file imported with ``eakte import``, then processed by a running ``eakte
worker`` (every file through the worker: EAKTE_INGEST_TEXT_AT_INTAKE_PAGES=0). Prints per file
what became of it and how long intake and processing took, then the peak resident memory of
the worker and its children (the confined jobs) over the whole run. Target: peak < 1 GB, every
file quarantined or processed, the worker alive at the end.

    .venv/bin/python -m bench.hostile_files_bench
"""

from __future__ import annotations

import time

from sqlalchemy import text

from bench._ingest_setup import MemoryWatch, installation, load, stop, wait_for
from eakte.db import make_engine
from tests.ingest.hostile import CORPUS

TARGET_PEAK = 1 << 30


def _state(inst, source: str) -> str | None:
    engine = make_engine(f"sqlite:///{inst.data_dir / 'eakte.db'}")
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, failure_reason FROM document WHERE source LIKE :s"),
                {"s": f"%{source}"},
            ).first()
            if row is None:
                code = conn.execute(
                    text("SELECT reason_code FROM quarantined_file WHERE source LIKE :s"),
                    {"s": f"%{source}"},
                ).scalar()
                return f"quarantined: {code}" if code else None
    finally:
        engine.dispose()
    if row.status == "failed":
        return f"failed: {row.failure_reason}"
    return row.status if row.status == "ready" else None


def main() -> None:
    with installation("eakte-bench-hostile-") as inst:
        inst.env["EAKTE_INGEST_TEXT_AT_INTAKE_PAGES"] = "0"
        print(f"hostile files: {len(CORPUS)} kinds through import and a worker; {load()}")
        empty = inst.files / "empty"
        empty.mkdir()
        started = time.monotonic()
        inst.eakte("import", str(empty), "--user", "scan")
        print(f"  (the import command itself, an empty folder: {time.monotonic() - started:.1f} s)")
        worker = inst.start("worker", "-w", "1", log="worker")
        alive = True
        try:
            with MemoryWatch([worker.pid]) as watch:
                for name, (maker, filename, expected) in CORPUS.items():
                    folder = inst.files / name
                    folder.mkdir()
                    (folder / filename).write_bytes(maker())
                    started = time.monotonic()
                    inst.eakte("import", str(folder), "--user", "scan")
                    taken = time.monotonic()
                    source = f"{folder.name}/{filename}"
                    wait_for(lambda s=source: _state(inst, s) is not None, 600, 0.1)
                    done = time.monotonic()
                    outcome = _state(inst, source)
                    print(
                        f"  {name:26} import {taken - started:5.1f} s, settled after "
                        f"{done - started:5.1f} s: {outcome[:110]}  (expected {expected})"
                    )
                alive = worker.poll() is None
            where, peak = watch.peak
        finally:
            stop(worker)
        print(f"  worker alive at the end: {'yes' if alive else 'NO'}")
        print(
            f"  peak RSS of the worker and its children: {peak / 2**20:,.0f} MB ({where}); "
            f"target < {TARGET_PEAK / 2**20:,.0f} MB: {'met' if peak < TARGET_PEAK else 'MISSED'}"
        )
        print(f"  {load()}")


if __name__ == "__main__":
    main()
