"""The embedded SeaweedFS: loopback only, private credentials, one server per data dir, no
process left behind."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from storage.embedded import EmbeddedSeaweedFS
from storage.errors import EmbeddedServerAlreadyRunning, EmbeddedServerError

ROOT = Path(__file__).resolve().parents[2]


def _address(hex_address: str) -> tuple[str, int]:
    """Decode a /proc/net/{tcp,udp}[6] "ADDR:PORT" (addresses in host byte order words)."""
    address, port = hex_address.split(":")
    raw = bytes.fromhex(address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words), int(port, 16)


def listening_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, address, port) of every TCP listener and bound UDP socket of ``pid``."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with_target = os.readlink(fd) if fd.is_symlink() else ""
        if with_target.startswith("socket:["):
            inodes.add(with_target[len("socket:[") : -1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if inode in inodes and (proto.startswith("udp") or state == "0A"):  # 0A: LISTEN
                found.append((proto, *_address(local)))
    return found


def _alive(pid: int) -> bool:
    """Whether any thread of ``pid`` still runs. A zombie has exited (only its parent has
    not collected it); but a thread-group leader shows as zombie while its other threads
    are still exiting (and holding its files), so every thread is looked at."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state not in ("Z", "X"):
            return True
    return False


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_listens_only_on_loopback(seaweed):
    sockets = listening_sockets(seaweed.pid)
    assert sockets, "no listeners found"
    assert {address for _, address, _ in sockets} == {"127.0.0.1"}, sockets
    assert {proto for proto, _, _ in sockets} == {"tcp"}, "no IPv6 and no UDP sockets"
    # Exactly the ports chosen at start: master, volume, filer, S3, admin and their gRPC.
    assert sorted(port for _, _, port in sockets) == sorted(seaweed.ports.values())
    assert len(sockets) == 10

    if shutil.which("ss"):  # the same seen by ss(8), as an operator would check it
        out = subprocess.run(["ss", "-H", "-ltnup"], capture_output=True, text=True).stdout
        ours = [line.split()[4] for line in out.splitlines() if f"pid={seaweed.pid}," in line]
        assert len(ours) == 10 and all(local.startswith("127.0.0.1:") for local in ours), ours


def test_credentials_are_private_and_kept(seaweed):
    path = seaweed.credentials_path
    assert path.stat().st_mode & 0o777 == 0o600
    identity = json.loads(path.read_text())["identities"][0]
    assert identity["credentials"][0] == {
        "accessKey": seaweed.access_key,
        "secretKey": seaweed.secret_key,
    }
    assert seaweed.secret_key not in seaweed.log_path.read_text()
    assert seaweed.log_path.stat().st_mode & 0o077 == 0
    assert seaweed.store_dir.stat().st_mode & 0o077 == 0


def test_second_server_on_same_data_dir_is_refused_but_can_attach(seaweed):
    second = EmbeddedSeaweedFS(seaweed.data_dir)
    with pytest.raises(EmbeddedServerAlreadyRunning) as refused:
        second.start()
    assert str(seaweed.data_dir) in str(refused.value)
    assert refused.value.exit_code == 7 and isinstance(refused.value, EmbeddedServerError)

    attached = EmbeddedSeaweedFS.attach_or_start(seaweed.data_dir)
    assert attached.attached and attached.endpoint == seaweed.endpoint
    attached.blobstore("attach-check").ensure_bucket()
    attached.stop()  # detaches only
    assert seaweed.running
    seaweed.blobstore("attach-check").check_bucket()


def test_forked_child_cannot_stop_the_server(seaweed):
    pid = os.fork()
    if pid == 0:  # the child: a worker process forked from the one that runs the server
        try:
            seaweed.stop()  # only detaches here
            os._exit(0 if seaweed.pid is None else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seaweed.running
    seaweed.blobstore("after-fork").ensure_bucket()
    with pytest.raises(EmbeddedServerAlreadyRunning):
        EmbeddedSeaweedFS(seaweed.data_dir).start()


def test_stop_leaves_no_process_and_restart_keeps_objects(tmp_path):
    server = EmbeddedSeaweedFS(tmp_path / "data")
    with server:
        pid = server.pid
        ports = server.ports
        credentials = (server.access_key, server.secret_key)
        store = server.blobstore("keep")
        store.ensure_bucket()
        stored = store.put("doc.txt", io.BytesIO(b"kept across restarts"), 20)
        assert _alive(pid)
    assert not server.running and not _alive(pid)
    assert _group_members(pid) == []
    assert not any(
        Path(f"/tmp/seaweedfs-{n}-grpc-{ports[f'{n}_grpc']}.sock").exists()
        for n in ("master", "s3")
    )

    with EmbeddedSeaweedFS(tmp_path / "data") as again:
        second_pid = again.pid
        assert (again.access_key, again.secret_key) == credentials
        assert json.loads(again.ports_path.read_text()) == again.ports
        store = again.blobstore("keep")
        store.ensure_bucket(create=False)
        assert store.verify("doc.txt", stored.version_id, stored.sha256) == stored.sha256
        fresh = again.blobstore("after-restart")
        fresh.ensure_bucket()  # new volumes after a restart do not clash with old ones
        fresh.put("x", io.BytesIO(b"x"), 1)
    assert not _alive(second_pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_server_dies_with_its_parent(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from storage.embedded import EmbeddedSeaweedFS
        server = EmbeddedSeaweedFS({str(tmp_path / "data")!r}).start()
        print(server.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no cleanup: only the kernel helps
        """
    )
    parent = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), "weed outlived its parent"
    # Its lock went with it: the data dir can be used again at once.
    with EmbeddedSeaweedFS(tmp_path / "data") as again:
        assert again.running


def test_start_failure_reports_the_log(tmp_path):
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'F0101 boom: cannot open volume dir' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = EmbeddedSeaweedFS(tmp_path / "data", weed_binary=fake)
    started = time.monotonic()
    with pytest.raises(EmbeddedServerError, match="boom: cannot open volume dir") as failed:
        server.start()
    assert "code 3" in str(failed.value) and server.secret_key not in str(failed.value)
    assert time.monotonic() - started < 10
    # Nothing stays locked after a failed start.
    with pytest.raises(EmbeddedServerError, match="boom"):
        server.start()

    missing = EmbeddedSeaweedFS(tmp_path / "other", weed_binary=tmp_path / "no-such-weed")
    with pytest.raises(EmbeddedServerError):
        missing.start()
