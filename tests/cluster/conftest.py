"""Fixtures of the cluster test: PostgreSQL and Redis servers (as the other tests find or
start them) and the multi-host installation on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.cluster import ClusterInstall, cluster_install
from tests.ops import redis_server

# A database number of its own (the other Redis tests use 15), flushed freely; under xdist each
# worker's is another (redis_server.worker_db).
REDIS_DB = 12


@pytest.fixture(scope="session")
def cluster_redis_url() -> Iterator[str]:
    url, started = redis_server.server_url(REDIS_DB)
    try:
        yield url
    finally:
        if started is not None:
            started.terminate()
            started.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path, pg_server_url, cluster_redis_url) -> Iterator[ClusterInstall]:
    with cluster_install(tmp_path / "cluster", pg_server_url, cluster_redis_url) as install:
        yield install
