"""Benchmark: born-digital import on several hosts beside the single machine (issue 8).

Both installations take the same documents (3-page born-digital PDFs, as in
``bench.ingest_born_digital_bench``) with ``eakte import -j 4``; the figure is documents/s from
the start of the import until every document is ready and searchable.

- cluster: PostgreSQL (a database of its own on the server the tests use), Redis (database
  12, flushed), a SeaweedFS cluster (master, two volume servers with replication 001, filer,
  S3 gateway), two web processes and ``--workers`` worker hosts of one process each, all on
  this machine's loopback (``tests/cluster/cluster.py``);
- single machine: the embedded defaults (SQLite, embedded SeaweedFS, Huey on SQLite) with
  ``eakte worker -w --single-workers`` (``bench/_ingest_setup.py``).

Every "host" runs on the same cores, so more workers cannot add CPU here: the ratio shows the
cost of the distributed set-up (network hops, replication, PostgreSQL, Redis), not scaling.

    .venv/bin/python -m bench.cluster_import_bench [--docs 1000] [--workers 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench._ingest_setup import installation, load, stop, wait_for
from bench.ingest_born_digital_bench import generate
from tests.cluster.cluster import cluster_install, wait_until
from tests.fixtures import postgres
from tests.ops import redis_server

REDIS_DB = 11  # not the cluster test's (12): both flush theirs


def run_cluster(source: Path, docs: int, workers: int, jobs: int) -> dict[str, float]:
    redis_url, started_redis = redis_server.server_url()
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))
    root = Path(tempfile.mkdtemp(prefix="eakte-bench-cluster-", dir="/tmp"))
    try:
        with cluster_install(root, postgres.server_url(), redis_url) as cluster:
            if cluster.search_backend == "whoosh":
                # One Whoosh index for all workers (hosts cannot share one otherwise).
                cluster.shared_dirs.update({f"worker{n}": "workers" for n in range(workers)})
            webs = ("web1", "web2")
            for name in webs:
                cluster.start_web(name)
            for n in range(workers):
                cluster.start_worker(f"worker{n}")
            for name in webs:
                wait_until(f"{name} ready", lambda name=name: cluster.ready(name), 60)
            time.sleep(2)  # the workers are up (the clock starts with the import)
            start = time.monotonic()
            importer = cluster.start_eakte(
                "import", "import", str(source), "--user", "scan", "-j", str(jobs)
            )
            importer.process.wait(timeout=3600)
            imported = time.monotonic()
            if importer.process.returncode != 0:
                raise SystemExit(f"eakte import failed:\n{importer.log_tail()}")
            ready = wait_for(lambda: cluster.counts().get("ready", 0) >= docs, 3600, poll=0.5)
            indexed = wait_for(lambda: cluster.counts().get("indexed", 0) >= docs, 600, poll=0.5)
            cluster.supervisor.check_alive(*webs, *(f"worker{n}" for n in range(workers)))
            print(f"  cluster documents: {cluster.counts()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if started_redis is not None:
            started_redis.terminate()
    return {"import": imported - start, "ready": ready - start, "searchable": indexed - start}


def run_single(source: Path, docs: int, workers: int, jobs: int) -> dict[str, float]:
    with installation("eakte-bench-cluster-single-") as inst:
        worker = inst.start("worker", "-w", str(workers), log="worker")
        time.sleep(2)
        start = time.monotonic()
        importer = inst.start(
            "import", str(source), "--user", "scan", "-j", str(jobs), log="import"
        )
        try:
            importer.wait(timeout=3600)
            imported = time.monotonic()
            ready = wait_for(lambda: inst.counts().get("ready", 0) >= docs, 3600)
            indexed = wait_for(lambda: inst.counts().get("indexed", 0) >= docs, 600)
        finally:
            stop(worker)
        if importer.returncode != 0:
            raise SystemExit(f"eakte import failed: {(inst.data_dir / 'import.err').read_text()}")
        print(f"  single-machine documents: {inst.counts()}")
    return {"import": imported - start, "ready": ready - start, "searchable": indexed - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3, help="worker hosts in the cluster")
    parser.add_argument(
        "--single-workers", type=int, default=2, help="eakte worker -w N on the single machine"
    )
    parser.add_argument("--jobs", type=int, default=4, help="eakte import -j N")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="eakte-bench-cluster-docs-", dir="/tmp") as tmp:
        source = Path(tmp)
        generate(source, args.docs, args.pages)
        print(f"born-digital import: {args.docs} documents of {args.pages} pages")
        print(f"  before: {load()}")
        single = run_single(source, args.docs, args.single_workers, args.jobs)
        print(f"  between: {load()}")
        cluster = run_cluster(source, args.docs, args.workers, args.jobs)
        print(f"  after: {load()}")

    def line(label: str, figures: dict[str, float]) -> None:
        s = figures["searchable"]
        print(f"  {label:44} import {figures['import']:6.1f} s, ready {figures['ready']:6.1f} s, "
              f"searchable {s:6.1f} s  ({args.docs / s:6.1f} documents/s)")  # fmt: skip

    line(f"single machine (SQLite, embedded, worker -w {args.single_workers}):", single)
    line(f"cluster (PostgreSQL + Redis, {args.workers} worker hosts):", cluster)
    ratio = single["searchable"] / cluster["searchable"]
    print(f"  cluster / single machine throughput: {ratio:.2f}  (on {load().split(' on ')[-1]})")


if __name__ == "__main__":
    main()
