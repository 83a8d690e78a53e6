"""A multi-host eAkte on this one machine (issue 8): every "host" is a group of processes on
127.0.0.1 with ports and a data dir of its own.

- :class:`Supervisor` starts processes, each in a process group of its own with its output in
  a log file, kills single ones by pid (to simulate a host dying) and stops everything it
  started, and only that;
- :class:`SeaweedCluster`: a SeaweedFS cluster from the ``weed`` binary — one master
  (``-defaultReplication``, so every object is written to two volume servers), volume
  servers, a filer and an S3 gateway with an identities file — hardened like the embedded
  server (gRPC mTLS and volume-server JWTs from one ``security.toml``, master and filer HTTP
  APIs off);
- :class:`ClusterInstall`: eAkte on PostgreSQL (a database of its own, dropped afterwards),
  Redis (a database number of its own, flushed before and after) and that cluster; web
  processes (``eakte serve -w 0``) and worker processes (``eakte worker``), each with its own
  ``EAKTE_DATA_DIR``.

Used by ``tests/cluster/test_cluster.py`` and ``bench/cluster_import_bench.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import urllib3
from minio import Minio
from sqlalchemy import text
from sqlalchemy.engine import make_url

from eakte.db import make_engine
from storage.blobstore import BlobStore
from storage.seaweed_security import ensure_security
from storage.weed import (
    dying_with_parent,
    find_weed_binary,
    identities_config,
    weed_environment,
)
from tests.fixtures.s3 import TEST_FLOOR

HOST = "127.0.0.1"
# Hosts cannot share a Whoosh directory; with the PostgreSQL backend every web process searches
# the same index.
SEARCH_BACKEND = "postgresql"
PASSWORD = "cluster password 1"  # a throwaway installation


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_until(what: str, predicate: Callable[[], bool], timeout: float, poll=0.2) -> float:
    """Wait until ``predicate()`` holds; the monotonic time it did. TimeoutError names ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic()


# ------------------------------------------------------------------------------ supervisor


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text_ = self.log_path.read_bytes()[-16384:].decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text_.splitlines()[-lines:])


class Supervisor:
    """Starts processes and stops exactly those (by pid; each leads its own process group)."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.services: dict[str, Service] = {}

    def start(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path | None = None):
        if name in self.services and self.services[name].alive:
            raise RuntimeError(f"{name} already runs")
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                dying_with_parent(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(name, process, log_path)
        self.services[name] = service
        return service

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the service's process group (a host dying: SIGKILL) and reap it."""
        service = self.services[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.pid, sig)
        if sig == signal.SIGKILL:
            service.process.wait(timeout=30)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        service = self.services[name]
        if service.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=timeout)
        # Whatever the service started in its group goes too (even after the leader exited).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=10)

    def stop_all(self) -> None:
        """Stop every service in the reverse order of starting."""
        for name in reversed(list(self.services)):
            self.stop(name)

    def check_alive(self, *names: str) -> None:
        for name in names or self.services:
            service = self.services[name]
            if not service.alive:
                raise RuntimeError(
                    f"{name} exited with code {service.process.returncode}; "
                    f"{service.log_path} ends with:\n{service.log_tail()}"
                )


# ------------------------------------------------------------------------------ SeaweedFS


@dataclass
class SeaweedCluster:
    """Master, ``volumes`` volume servers, filer and S3 gateway, each a host of its own."""

    supervisor: Supervisor
    root: Path
    volumes: int = 2
    replication: str = "001"  # two copies in one rack: each object on both volume servers
    ports: dict[str, int] = field(default_factory=dict)
    access_key: str = ""
    secret_key: str = field(default="", repr=False)

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.ports['s3']}"

    def volume_name(self, number: int) -> str:
        return f"weed-volume-{number}"

    def start(self, timeout: float = 60.0) -> SeaweedCluster:
        weed = str(find_weed_binary())
        self.root.mkdir(parents=True, exist_ok=True)
        # One security.toml for the cluster (as an operator would copy it to every host):
        # weed reads it from its working directory.
        security_dir = self.root / "security"
        security_dir.mkdir(mode=0o700, exist_ok=True)
        ensure_security(security_dir)
        self.access_key = "EAKTE" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        identities = self.root / "s3-identities.json"
        # The same least-privilege identity as the embedded server's (no Admin).
        identities.write_text(json.dumps(identities_config(self.access_key, self.secret_key)))
        identities.chmod(0o600)
        names = ["master", "filer", "s3"] + [f"volume{n}" for n in range(1, self.volumes + 1)]
        for name in names:
            self.ports[name] = free_port()
            self.ports[f"{name}_grpc"] = free_port()
        env = weed_environment()
        p = self.ports
        master = f"{HOST}:{p['master']}.{p['master_grpc']}"
        common = [f"-ip.bind={HOST}"]

        def data(name: str) -> str:
            path = self.root / name
            path.mkdir(exist_ok=True)
            return str(path)

        def start(name: str, *args: str) -> None:
            self.supervisor.start(name, [weed, *args], env=env, cwd=security_dir)

        start(
            "weed-master",
            "master",
            f"-ip={HOST}",
            *common,
            f"-port={p['master']}",
            f"-port.grpc={p['master_grpc']}",
            f"-mdir={data('master')}",
            "-peers=none",
            f"-defaultReplication={self.replication}",
            "-volumeSizeLimitMB=256",
            "-telemetry=false",
            "-disableHttp",
        )
        for n in range(1, self.volumes + 1):
            self.start_volume(n)
        wait_until("volume servers registered", self.volumes_registered, timeout)
        start(
            "weed-filer",
            "filer",
            f"-ip={HOST}",
            *common,
            f"-port={p['filer']}",
            f"-port.grpc={p['filer_grpc']}",
            f"-master={master}",
            f"-defaultStoreDir={data('filer')}",
            f"-defaultReplicaPlacement={self.replication}",
            "-disableHttp",
            "-webdav=false",
            "-s3=false",
            "-iam=false",
        )
        start(
            "weed-s3",
            "s3",
            f"-ip={HOST}",
            *common,
            f"-port={p['s3']}",
            f"-port.grpc={p['s3_grpc']}",
            f"-filer={HOST}:{p['filer']}.{p['filer_grpc']}",
            f"-config={identities}",
            "-iam=false",
            "-port.iceberg=0",
            "-port.lance=0",
            "-autoCreateBucket=false",
            "-allowDeleteBucketNotEmpty=false",
            "-idleTimeout=10",
        )
        wait_until("S3 gateway answers", self._s3_ready, timeout)
        return self

    def start_volume(self, number: int) -> None:
        p = self.ports
        env = weed_environment()
        path = self.root / f"volume{number}"
        path.mkdir(exist_ok=True)
        self.supervisor.start(
            self.volume_name(number),
            [
                str(find_weed_binary()),
                "volume",
                f"-ip={HOST}",
                f"-ip.bind={HOST}",
                f"-port={p[f'volume{number}']}",
                f"-port.grpc={p[f'volume{number}_grpc']}",
                f"-dir={path}",
                f"-master={HOST}:{p['master']}.{p['master_grpc']}",
                "-max=40",
                "-dataCenter=dc1",
                "-rack=rack1",
                "-preStopSeconds=0",
                "-idleTimeout=10",
            ],
            env=env,
            cwd=self.root / "security",
        )

    def master_page(self) -> str:
        # -disableHttp leaves the master's status page, which lists the volume servers.
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.ports['master']}/", timeout=2) as r:
                return r.read().decode(errors="replace")
        except OSError:
            return ""

    def registered_volume_servers(self) -> set[int]:
        page = self.master_page()
        return {
            n
            for n in range(1, self.volumes + 1)
            if f">{HOST}:{self.ports[f'volume{n}']}</a>" in page
        }

    def volumes_registered(self) -> bool:
        return len(self.registered_volume_servers()) == self.volumes

    def client(self) -> Minio:
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1, read=5), retries=False
            ),
        )

    def _s3_ready(self) -> bool:
        try:
            self.client().list_buckets()
        except Exception:  # any failure just means "not yet"
            return False
        return True


# ------------------------------------------------------------------------------ eAkte


def _url_for_database(server_url: str, name: str) -> str:
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@dataclass
class ClusterInstall:
    """eAkte on PostgreSQL + Redis + a SeaweedFS cluster, with web and worker hosts."""

    root: Path
    pg_server_url: str
    redis_url: str  # redis://host:port/<db of its own>; flushed before and after
    supervisor: Supervisor
    seaweed: SeaweedCluster
    database: str = field(default_factory=lambda: f"cluster_{uuid.uuid4().hex[:12]}")
    bucket: str = "eakte-cluster"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    web_ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    search_backend: str = SEARCH_BACKEND
    shared_dirs: dict[str, str] = field(default_factory=dict)
    """host -> the host whose data dir it uses (default: a data dir of its own)."""

    @property
    def database_url(self) -> str:
        return _url_for_database(self.pg_server_url, self.database)

    def host_dir(self, host: str) -> Path:
        path = self.root / "hosts" / self.shared_dirs.get(host, host)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def env(self, host: str) -> dict[str, str]:
        """The environment of an eAkte process on ``host`` (its own data dir, shared rest)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EAKTE_", "AWS_", "WEED_"))}
        env.update(
            {
                "EAKTE_DATA_DIR": str(self.host_dir(host)),
                "EAKTE_DATABASE_URL": self.database_url,
                "EAKTE_REDIS_URL": self.redis_url,
                "EAKTE_S3_ENDPOINT": self.seaweed.endpoint,
                "EAKTE_S3_ACCESS_KEY": self.seaweed.access_key,
                "EAKTE_S3_SECRET_KEY": self.seaweed.secret_key,
                "EAKTE_S3_BUCKET": self.bucket,
                "EAKTE_SECRET_KEY": self.secret_key,
                "EAKTE_SEARCH_BACKEND": self.search_backend,
                "EAKTE_ADMIN_PASSWORD": PASSWORD,
                "EAKTE_LOG_LEVEL": "WARNING",
                "OMP_THREAD_LIMIT": "1",
                **self.extra_env,
            }
        )
        return env

    def store(self) -> BlobStore:
        """eAkte's bucket on the cluster's S3 gateway (with the tests' short floor)."""
        sw = self.seaweed
        return BlobStore(
            sw.endpoint, sw.access_key, sw.secret_key, self.bucket, min_retention=TEST_FLOOR
        )

    # --- lifecycle

    def create(self) -> ClusterInstall:
        with psycopg.connect(self.pg_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        redis.Redis.from_url(self.redis_url).flushdb()
        self.seaweed.start()
        self.eakte("admin", "init")
        self.eakte("admin", "orgunit", "add", "32", "Ordnungsamt")
        user = ["user", "add", "scan", "--role", "scanner", "--org-unit", "32", "--password-stdin"]
        self.eakte("admin", *user, input=PASSWORD + "\n")
        return self

    def destroy(self) -> None:
        self.supervisor.stop_all()
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.redis_url).flushdb()
        with psycopg.connect(self.pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def eakte(self, host: str, *args: str, check=True, timeout=600, **kwargs):
        """Run ``eakte ARGS`` on ``host`` to completion."""
        result = subprocess.run(
            [sys.executable, "-m", "eakte", *args],
            env=self.env(host),
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"eakte {' '.join(args)} on {host} exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def start_eakte(self, name: str, *args: str, host: str | None = None) -> Service:
        return self.supervisor.start(
            name, [sys.executable, "-m", "eakte", *args], env=self.env(host or name)
        )

    def start_web(self, name: str) -> Service:
        port = free_port()
        self.web_ports[name] = port
        return self.start_eakte(name, "serve", "-w", "0", "--port", str(port))

    def start_worker(self, name: str, processes: int = 1) -> Service:
        return self.start_eakte(name, "worker", "-w", str(processes))

    def web_url(self, name: str) -> str:
        return f"http://{HOST}:{self.web_ports[name]}"

    def fetch(self, name: str, path: str, token: str | None = None) -> tuple[int, bytes]:
        """GET ``path`` from web process ``name``: status (0: no answer) and body."""
        # An http:// URL of our own making (the web process on loopback).
        request = urllib.request.Request(self.web_url(name) + path)  # noqa: S310
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def get(self, name: str, path: str, token: str | None = None) -> tuple[int, dict]:
        """GET a JSON answer: status and the decoded body (``{"body": text}`` if not JSON)."""
        status, body = self.fetch(name, path, token)
        try:
            return status, json.loads(body or b"{}")
        except ValueError:
            return status, {"body": body.decode(errors="replace")}

    def ready(self, name: str) -> bool:
        return self.get(name, "/readyz")[0] == 200

    # --- the database

    @contextlib.contextmanager
    def connection(self) -> Iterator:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def api_token(self, username: str, *scopes: str) -> str:
        """A new API token acting as ``username``, made by the admin through the service."""
        from sqlalchemy import select

        from eakte.db import make_session_factory
        from eakte.models import User
        from eakte.models.api import Scope
        from eakte.services import api_tokens

        engine = make_engine(self.database_url)
        try:
            with make_session_factory(engine)() as session:
                user = session.scalars(select(User).where(User.username == username)).one()
                wanted = {Scope(s) for s in scopes}
                _, plain = api_tokens.create_token(session, user, "cluster", wanted)
        finally:
            engine.dispose()
        return plain

    def counts(self) -> dict[str, int]:
        """Documents by status; ``indexed``: ready and written to the search index."""
        with self.connection() as conn:
            rows = conn.execute(
                text("SELECT status, index_dirty, count(*) FROM document GROUP BY 1, 2")
            ).all()
        counts: dict[str, int] = {"documents": 0}
        for status, dirty, n in rows:
            counts["documents"] += n
            counts[status] = counts.get(status, 0) + n
            if status == "ready" and not dirty:
                counts["indexed"] = counts.get("indexed", 0) + n
        return counts


@contextlib.contextmanager
def cluster_install(
    root: Path, pg_server_url: str, redis_url: str, **kwargs
) -> Iterator[ClusterInstall]:
    supervisor = Supervisor(root / "logs")
    install = ClusterInstall(
        root=root,
        pg_server_url=pg_server_url,
        redis_url=redis_url,
        supervisor=supervisor,
        seaweed=SeaweedCluster(supervisor, root / "seaweed"),
        **kwargs,
    )
    try:
        install.create()
        yield install
    finally:
        install.destroy()
