"""Fixtures of the cluster test: PostgreSQL and Redis servers (as the other tests find or
start them) and the multi-host installation on them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.cluster.cluster import ClusterInstall, cluster_install
from tests.ops import redis_server

REDIS_DB = 12  # a database number of its own (the other Redis tests use 15): flushed freely


@pytest.fixture(scope="session")
def cluster_redis_url() -> Iterator[str]:
    url, started = redis_server.server_url()
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{REDIS_DB}"))
    finally:
        if started is not None:
            started.terminate()
            started.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path, pg_server_url, cluster_redis_url) -> Iterator[ClusterInstall]:
    with cluster_install(tmp_path / "cluster", pg_server_url, cluster_redis_url) as install:
        yield install
