"""``eakte doctor`` (issue 26): a sound installation passes; each problem is named with its fix.

The installation is real (database, SeaweedFS bucket with Object Lock, a real backup and a
real fixity check). The one stand-in: this machine's clock is not NTP-synchronised (no NTP
daemon runs here; the kernel says TIME_ERROR), so the sound installation gets a
``timedatectl`` on PATH that answers "yes"; ``test_this_machine_clock`` checks the real answer.
"""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from minio import Minio

from eakte.cli import main
from eakte.models import StoredObject, User
from eakte.services import doctor_checks, doctor_host, ops_log
from eakte.services.accounts import change_password, get_tenant

NEW_PASSWORD = "a much better passphrase 7"


def _fake_tool(bin_dir, name: str, output: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\necho {output}\n")
    path.chmod(0o755)


@pytest.fixture
def sound(rt, env, tmp_path, monkeypatch):
    """A sound installation: admin password changed, an object stored, a backup made, a clean
    fixity check, a trusted proxy in front, a synchronised clock."""
    cli = CliRunner()
    monkeypatch.setenv("EAKTE_CONFIG_FILE", str(tmp_path / "eakte.env"))  # absent
    monkeypatch.setenv("EAKTE_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.delenv("EAKTE_ADMIN_PASSWORD", raising=False)
    done = cli.invoke(main, ["init"])
    assert done.exit_code == 0, done.output
    with rt.session() as session:
        tenant = get_tenant(session, "default")
        admin = session.query(User).filter_by(tenant_id=tenant.id, username="admin").one()
        admin_password = done.output.split("password ", 1)[1].split()[0]
        change_password(session, admin, admin_password, NEW_PASSWORD)
        stored = rt.store.put("doctor/probe.txt", io.BytesIO(b"probe"), 5, "text/plain")
        session.add(StoredObject.of(stored, tenant.id))
        session.commit()
    backups = tmp_path / "backups"
    done = cli.invoke(main, ["backup", "--dated", str(backups)])
    assert done.exit_code == 0, done.output
    done = cli.invoke(main, ["verify"])
    assert done.exit_code == 0, done.output
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "timedatectl", "yes")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return rt


def doctor(*args: str) -> tuple[int, dict]:
    done = CliRunner().invoke(main, ["doctor", "--json", *args])
    assert done.exit_code in (0, 1), done.output
    return done.exit_code, json.loads(done.output)


def problems(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in report["findings"]:
        if f["status"] == "problem":
            assert f["fix"], f  # every problem comes with its fix
            found.setdefault(f["check"], []).append(f["detail"])
    return found


def test_a_sound_installation_is_well(sound):
    code, report = doctor()
    assert problems(report) == {}
    assert code == 0 and report["ok"]
    checks = {f["check"] for f in report["findings"] if f["status"] == "ok"}
    assert {"data dir", "clock", "proxy", "backup", "fixity", "database"} <= checks
    assert {"first admin", "disk", "bucket"} <= checks
    text = CliRunner().invoke(main, ["doctor"])
    assert text.exit_code == 0 and text.output.rstrip().endswith("all is well")


def test_each_problem_is_named_with_its_fix(sound, settings, tmp_path, monkeypatch):
    data = settings.data_dir
    # data dir: a file other users may read
    (data / "notes.txt").write_text("x")
    (data / "notes.txt").chmod(0o644)
    # a config file with secrets, readable by the group
    config = tmp_path / "eakte.env"
    config.write_text("EAKTE_SECRET_KEY=abc\n")
    config.chmod(0o640)
    # the clock
    _fake_tool(tmp_path / "bin", "timedatectl", "no")
    # a proxy setting that believes everyone
    monkeypatch.setenv("EAKTE_TRUSTED_PROXIES", "0.0.0.0/0")
    # the last backup failed: a backup into a folder that is not empty
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert CliRunner().invoke(main, ["backup", str(full)]).exit_code != 0
    code, report = doctor()
    found = problems(report)
    assert code == 1 and not report["ok"]
    assert "notes.txt 0644" in found["data dir"][0]
    assert "mode 0640" in found["config file"][0]
    assert "NTPSynchronized=no" in found["clock"][0]
    assert "0.0.0.0/0" in found["proxy"][0]
    assert "failed" in found["backup"][0]
    assert set(found) == {"data dir", "config file", "clock", "proxy", "backup"}


def test_stale_runs_unchanged_password_and_a_damaged_archive(sound, settings, monkeypatch):
    # the last backup and fixity check three days old
    for path in (settings.data_dir / ops_log.BACKUP_RECORD, settings.data_dir / "verify/last.json"):
        body = json.loads(path.read_text())
        body["finished_at"] = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        path.write_text(json.dumps(body))
    with sound.session() as session:
        admin = session.query(User).filter_by(username="admin").one()
        admin.password_changed_at = None  # as eakte init left it
        # growth: 10 PiB stored this month does not fit on this disk for 90 days
        tenant_id = admin.tenant_id
        session.add(
            StoredObject(
                tenant_id=tenant_id,
                key="doctor/huge",
                version_id="v1",
                sha256="0" * 64,
                size=10 * 1024**5,
                content_type="application/pdf",
            )
        )
        session.commit()
    monkeypatch.setenv("EAKTE_HOST", "0.0.0.0")  # noqa: S104 (the problem under test)
    monkeypatch.setenv("EAKTE_TRUSTED_PROXIES", "")
    code, report = doctor()
    found = problems(report)
    assert code == 1
    assert "3 days old" in found["backup"][0]
    assert "3 days old" in found["fixity"][0]
    assert "never changed" in found["first admin"][0]
    assert "90 days of growth" in found["disk"][0]
    assert "without a TLS proxy" in found["proxy"][0]
    # the newest version (the huge one) is not in the bucket at all: not locked
    assert "newest stored version (doctor/huge)" in found["bucket"][0]
    # a fixity check that finds the missing object fails, and doctor says so
    assert CliRunner().invoke(main, ["verify"]).exit_code != 0
    code, report = doctor()
    assert "found" in problems(report)["fixity"][0]


def test_a_bucket_without_object_lock(seaweed, rt):
    client = Minio(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, secure=False)
    name = f"nolock-{os.getpid()}-{datetime.now(UTC):%H%M%S%f}"
    client.make_bucket(name)
    store = seaweed.blobstore(name)
    with rt.session() as session:
        found = doctor_checks.bucket_locks(store, session)
    assert found[0].status == "problem"
    assert "lacks versioning and Object Lock" in found[0].detail
    assert "eakte restore" in found[0].fix


def test_a_world_readable_config_file_is_refused(tmp_path):
    from eakte.config import Settings
    from eakte.errors import ConfigError

    config = tmp_path / "eakte.env"
    config.write_text('# comment\nexport EAKTE_PORT="8123"\nEAKTE_HOST=127.0.0.2\nOTHER=1\n')
    config.chmod(0o600)
    env = {"EAKTE_CONFIG_FILE": str(config), "EAKTE_HOST": "127.0.0.3"}
    from eakte.config import environment_with_config_file

    settings = Settings.from_env(environment_with_config_file(env))
    assert settings.port == 8123  # from the file
    assert settings.host == "127.0.0.3"  # the environment wins
    config.chmod(0o604)
    with pytest.raises(ConfigError, match="chmod 600"):
        environment_with_config_file(env)
    assert stat.S_IMODE(config.stat().st_mode) == 0o604


def test_clock_sources_in_order():
    def unknown():
        return None

    def synced():
        return True, "chronyc tracking: Leap status Normal"

    def drifting():
        return False, "chronyc tracking: Leap status Not synchronised"

    assert doctor_host.clock((unknown, synced)).status == "ok"
    found = doctor_host.clock((unknown, drifting, synced))
    assert found.status == "problem" and "Not synchronised" in found.detail
    assert doctor_host.clock((unknown,)).status == "problem"


def test_this_machine_clock():
    """The kernel's answer, read without stand-ins, agrees with adjtimex(2)'s own tool view."""
    answer = doctor_host._adjtimex()
    assert answer is not None
    synced, detail = answer
    assert "adjtimex" in detail
    found = doctor_host.clock()
    assert found.status == ("ok" if synced else "problem") or "timedatectl" in found.detail
