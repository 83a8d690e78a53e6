"""The ports of the embedded server: chosen free on 127.0.0.1, reused across restarts."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import stat
from pathlib import Path

from storage.errors import EmbeddedServerError
from storage.weed import HOST

PORT_NAMES = (
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
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
_GRPC_OFFSET = 10000
# Ports 20000-32767 (gRPC = http + 10000): below Linux's ephemeral range (32768-60999), so
# outgoing connections do not take them between two runs and a restart can reuse them.
_PORT_LOW, _PORT_HIGH = 20000, 32768 - _GRPC_OFFSET


def choose_ports(ports_path: Path, reuse: bool) -> dict[str, int]:
    """A free port per role; with ``reuse`` the previous run's (in ``ports_path``) if all
    are still free, so the master keeps its state directory."""
    if reuse:
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            previous = json.loads(ports_path.read_text())
            ports = {name: int(previous[name]) for name in PORT_NAMES}
            consistent = all(
                ports[f"{name}_grpc"] == ports[name] + _GRPC_OFFSET for name in COMPONENTS
            )
            if consistent and all(port_free(port) for port in ports.values()):
                return ports
    # weed mini's maintenance worker dials the admin server at http port + 10000 whatever
    # -admin.port.grpc says, so every gRPC port is its http port + 10000 (weed's own
    # convention). Sockets stay bound until all are picked, so none is picked twice.
    held: list[socket.socket] = []
    chosen: dict[str, int] = {}
    try:
        for name in COMPONENTS:
            for _ in range(500):
                port = _PORT_LOW + secrets.randbelow(_PORT_HIGH - _PORT_LOW)
                http, grpc = _bound(port), _bound(port + _GRPC_OFFSET)
                if http is not None and grpc is not None:
                    held.extend((http, grpc))
                    chosen[name] = port
                    chosen[f"{name}_grpc"] = port + _GRPC_OFFSET
                    break
                for sock in (http, grpc):
                    if sock is not None:
                        sock.close()
            else:
                raise EmbeddedServerError("embedded SeaweedFS: found no free ports")
    finally:
        for sock in held:
            sock.close()
    return {name: chosen[name] for name in PORT_NAMES}


def remove_grpc_sockets(ports: dict[str, int]) -> None:
    """Remove the unix socket weed puts in /tmp per gRPC port (not configurable) and leaves
    behind on exit; only ours."""
    for name in COMPONENTS:
        port = ports.get(f"{name}_grpc")
        path = Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")  # noqa: S108 - weed's path
        with contextlib.suppress(OSError):
            st = path.lstat()
            if stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid():
                path.unlink()


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


def port_free(port: int) -> bool:
    sock = _bound(port)
    if sock is None:
        return False
    sock.close()
    return True
