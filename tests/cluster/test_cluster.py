"""Issue 8: eAkte on several hosts — PostgreSQL, Redis, a SeaweedFS cluster (master, two
replicating volume servers, filer, S3 gateway), two web processes and three workers, all on
this machine's loopback with ports and data dirs of their own. 500 documents are imported;
midway one worker and one volume server are killed (SIGKILL). Every document must arrive
exactly once and ``eakte verify`` must be clean.

With replication ``001`` every object is on both volume servers, so reads go on while one is
down. Writes do not: SeaweedFS places each new object on two live volume servers, and with
one of two left the master cannot assign a volume (the S3 PUT fails after the filer's 30 s
assign timeout). So the dead host comes back after a while (as after a reboot), and eAkte's
own recovery paths carry the import through: ``eakte import`` stops on the storage failure
and, run again, continues where it stopped; processing jobs retry with backoff; the
document the killed worker held is queued again by ``eakte recover`` once its process is
known to be gone.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest
from minio.error import S3Error
from sqlalchemy import text

from bench.ingest_born_digital_bench import generate
from tests.cluster.cluster import ClusterInstall, wait_until
from tests.fixtures.s3 import wait_for_floor

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.slow]

ONE_PAGE, THREE_PAGES = 300, 200  # 500 documents in all
KILL_AFTER = 150  # documents registered
OUTAGE_S = 40  # longer than the filer's 30 s assign timeout: writes fail, not just wait
WORKERS = ("worker1", "worker2", "worker3")
WEBS = ("web1", "web2")


def _sources(root: Path) -> dict[str, str]:
    generate(root / "one-page", ONE_PAGE, 1)
    generate(root / "three-pages", THREE_PAGES, 3)
    return {
        hashlib.sha256(path.read_bytes()).hexdigest(): str(path.relative_to(root))
        for path in sorted(root.rglob("*.pdf"))
    }


def _diagnostics(cluster: ClusterInstall) -> str:
    parts = [f"counts: {cluster.counts()}"]
    for name, service in cluster.supervisor.services.items():
        state = "alive" if service.alive else f"exited {service.process.returncode}"
        parts.append(f"--- {name} ({state}):\n{service.log_tail(15)}")
    return "\n".join(parts)


def _import_until_done(cluster: ClusterInstall, source: Path, runs: int = 4) -> list[int]:
    """``eakte import`` again until it succeeds (it stops on a storage failure; nothing is
    lost and the next run continues). The exit codes of the runs."""
    codes = []
    for _ in range(runs):
        result = cluster.eakte(
            "importer", "import", str(source), "--user", "scan", "-j", "4", check=False
        )
        codes.append(result.returncode)
        if result.returncode == 0:
            return codes
        time.sleep(2)
    raise AssertionError(f"eakte import failed {runs} times: {result.stdout}{result.stderr}")


def _check_object_lock(cluster: ClusterInstall) -> None:
    """The cluster's S3 gateway itself refuses to delete a version under retention (here the
    floor every version is stored with)."""
    store = cluster.store()
    stored = store.put("cluster-test/locked", io.BytesIO(b"locked"), 6)
    with pytest.raises(S3Error) as refused:
        cluster.seaweed.client().remove_object(
            cluster.bucket, stored.key, version_id=stored.version_id
        )
    assert refused.value.code == "AccessDenied"
    assert store.verify(stored.key, stored.version_id, stored.sha256) == stored.sha256
    # Once the floor has run out it can go (eakte verify must not find an object the database
    # does not know).
    wait_for_floor(store)
    assert store.delete_all_versions(stored.key) == 1
    assert not list(store.list("cluster-test/", versions=True))


def test_import_survives_loss_of_a_worker_and_a_volume_server(cluster, tmp_path):
    _check_object_lock(cluster)
    if cluster.search_backend == "whoosh":
        # One Whoosh index for the workers that write it and the verify that checks it.
        cluster.shared_dirs.update({name: "workers" for name in WORKERS})
    source = tmp_path / "archive"
    expected = _sources(source)
    assert len(expected) == ONE_PAGE + THREE_PAGES  # every file differs

    for name in WEBS:
        cluster.start_web(name)
    for name in WORKERS:
        cluster.start_worker(name)
    for name in WEBS:
        wait_until(f"{name} ready", lambda name=name: cluster.ready(name), 60)

    importer = cluster.start_eakte(
        "import", "import", str(source), "--user", "scan", "-j", "4", host="importer"
    )
    try:
        wait_until(
            f"{KILL_AFTER} documents registered",
            lambda: cluster.counts()["documents"] >= KILL_AFTER,
            120,
        )
    except TimeoutError:
        pytest.fail(_diagnostics(cluster))
    before_kill = cluster.counts()
    cluster.supervisor.kill("worker3")
    cluster.supervisor.kill(cluster.seaweed.volume_name(2))
    assert importer.alive, "the import ended before the failures: nothing was tested"

    # Replication: what was stored before the loss is still read in full from the survivor.
    wait_until("master notices", lambda: cluster.seaweed.registered_volume_servers() == {1}, 60)
    with cluster.connection() as conn:
        stored = conn.execute(
            text("SELECT key, version_id, sha256 FROM stored_object ORDER BY id LIMIT 20")
        ).all()
    store = cluster.store()
    for key, version_id, sha256 in stored:
        assert store.verify(key, version_id, sha256) == sha256
    time.sleep(OUTAGE_S)

    # The host comes back; the import and the jobs carry on where they stopped.
    cluster.seaweed.start_volume(2)
    wait_until("volume server back", cluster.seaweed.volumes_registered, 60)
    importer.process.wait(timeout=300)
    codes = [importer.process.returncode]
    if importer.process.returncode != 0:
        codes += _import_until_done(cluster, source)
    cluster.supervisor.check_alive("worker1", "worker2", *WEBS)
    try:
        # Jobs retry with backoff (5, 10, 20 … s); the killed worker's document waits for
        # recovery, which runs on a worker's start, every ten minutes, or when asked:
        wait_until(
            "queue drained",
            lambda: (
                cluster.counts().get("received", 0) + cluster.counts().get("processing", 0) <= 2
            ),
            240,
            poll=1,
        )
        cluster.eakte("worker1", "recover")
        wait_until(
            "every document ready and indexed",
            lambda: cluster.counts().get("indexed", 0) >= len(expected),
            120,
            poll=1,
        )
    except TimeoutError as exc:
        pytest.fail(f"{exc}; import exit codes {codes}\n{_diagnostics(cluster)}")

    # Every source file exactly once, none failed or quarantined.
    with cluster.connection() as conn:
        documents = conn.execute(text("SELECT sha256, status FROM document")).all()
        originals = conn.execute(
            text(
                "SELECT o.sha256 FROM file_version v JOIN stored_object o "
                "ON o.id = v.stored_object_id WHERE v.kind = 'original'"
            )
        ).all()
        quarantined = conn.execute(text("SELECT count(*) FROM quarantined_file")).scalar()
    by_hash = [sha for sha, _ in documents]
    assert sorted(by_hash) == sorted(expected), (before_kill, cluster.counts())
    assert {status for _, status in documents} == {"ready"}
    assert sorted(sha for (sha,) in originals) == sorted(expected)
    assert quarantined == 0

    result = cluster.eakte("worker1", "verify", check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    # Both web processes answer, and deliver an original from the cluster intact.
    token = cluster.api_token("scan", "search", "download")
    with cluster.connection() as conn:
        version, sha256 = conn.execute(
            text(
                "SELECT v.uuid, v.sha256 FROM file_version v JOIN document d "
                "ON d.id = v.document_id WHERE v.kind = 'original' ORDER BY d.id LIMIT 1"
            )
        ).one()
    for name in WEBS:
        status, body = cluster.get(name, "/readyz")
        assert status == 200, (name, body)
        status, content = cluster.fetch(name, f"/api/v1/versions/{version}/content", token)
        assert status == 200, (name, content[:200])
        assert hashlib.sha256(content).hexdigest() == sha256 and sha256 in expected
    if cluster.search_backend == "postgresql":
        # Both web processes search the one index: a number only two documents carry (the
        # one-page and the three-page letter with that number) finds exactly those two.
        found = {}
        for name in WEBS:
            status, body = cluster.get(name, "/api/v1/search?q=DOC0000123", token)
            assert status == 200, (name, body)
            found[name] = sorted(hit["uuid"] for hit in body["hits"])
            assert body["total"] == 2 and len(found[name]) == 2, (name, body)
        assert found["web1"] == found["web2"]
