"""Object-lock floor benchmark (issue 13): the nightly floor extension and verify's lock check.

N open cases with one document each are stored in the embedded SeaweedFS under a floor of a
second. Then, with the production floor of a year:

- ``extend_floors`` with every version near its floor (the worst night: each gets a PUT);
- ``extend_floors`` again, nothing near (what most nights cost: one indexed query);
- verify's lock check on its own (a HEAD per version) and after the fixity check (which reads
  every version anyway, so the lock check needs no request of its own).

    python -m bench.object_lock_bench [--versions 2000] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import update

from bench.retention_bench import _make_disposal, _setup
from eakte.models import Case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    from eakte.verify import VerifyContext, check_objects, run_verify
    from retention.floor import extend_floors
    from retention.verify import check_retention_locks
    from storage.embedded import EmbeddedSeaweedFS

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="object-lock-bench-") as tmp:
        workdir = Path(tmp)
        engine, sessions = _setup(args.database_url or f"sqlite:///{workdir / 'bench.db'}")
        server = EmbeddedSeaweedFS(workdir / "s3").start()
        try:
            short = server.blobstore("object-lock-bench", min_retention=timedelta(seconds=1))
            short.ensure_bucket()
            start = time.perf_counter()
            _make_disposal(sessions, short, args.versions)
            with sessions() as s, s.begin():  # open cases: live records that keep the floor
                s.execute(update(Case).values(status="open", closed_at=None, retention_end=None))
            print(f"{args.versions:,} versions stored in {time.perf_counter() - start:.1f} s")
            year = server.blobstore("object-lock-bench", min_retention=timedelta(days=365))
            for label in ("every version near its floor", "nothing near (a usual night)"):
                start = time.perf_counter()
                with sessions() as s:
                    report = extend_floors(s, year)
                took = time.perf_counter() - start
                rate = f" ({report.extended / took:,.0f}/s)" if report.extended else ""
                print(f"extend_floors, {label}: {report.extended:,} extended in {took:.2f} s{rate}")
            for label, checks in (
                ("lock check alone (HEAD per version)", [check_retention_locks]),
                ("fixity + lock check (no extra request)", [check_objects, check_retention_locks]),
            ):
                start = time.perf_counter()
                with sessions() as s:
                    report = run_verify(VerifyContext(s, year), checks)
                took = time.perf_counter() - start
                print(
                    f"verify, {label}: {report.checked['retention lock versions']:,} versions, "
                    f"{len(report.findings)} findings, {took:.2f} s"
                )
        finally:
            server.stop()
            engine.dispose()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
