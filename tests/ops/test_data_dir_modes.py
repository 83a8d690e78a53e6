"""Issue 13, finding 6: the data dir is private to the service user (0700 folders, 0600
files) — the database, job queue, index, spool and SeaweedFS data hold every document's text
and the password hashes. ``eakte init`` repairs an older installation and says so; ``eakte
verify`` reports loose modes."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from eakte.cli import main
from eakte.config import Settings
from eakte.errors import ExitCode
from eakte.jobs.queue import make_huey
from indexing.store import IndexStore
from storage.embedded import EmbeddedSeaweedFS
from tests.fixtures.s3 import bucket_name


@pytest.fixture
def usual_umask():
    """The umask most systems start services with (files 0644, folders 0755)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite in the data dir (the default layout; ``settings`` puts the data dir there)."""
    return f"sqlite:///{tmp_path / 'data' / 'eakte.db'}"


@pytest.fixture
def install(settings, env, usual_umask, monkeypatch) -> Settings:
    monkeypatch.setenv("EAKTE_ADMIN_PASSWORD", "a long admin password")
    return settings


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and itself) that is not 0700 (folders) or owner-only (files)."""
    loose = {}
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        if (stat.S_ISDIR(mode) and stat.S_IMODE(mode) != 0o700) or mode & 0o077:
            loose[str(path.relative_to(root))] = f"{stat.S_IMODE(mode):o}"
    return loose


def test_data_dir_and_what_eakte_creates_in_it_are_private(install):
    install.data_dir.mkdir()  # made by the operator beforehand: 0755
    result = _cli("init")
    assert result.exit_code == 0, result.output
    make_huey(install)  # creates jobs.db
    install.spool_dir()
    index = IndexStore(install.data_dir / "index")
    with index.locked():
        pass
    (install.data_dir / "previews").mkdir(exist_ok=True)
    root = install.data_dir
    assert {"eakte.db", "jobs.db", "spool", "index", "previews"} <= {p.name for p in root.iterdir()}
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert _modes(root) == {}


def test_embedded_seaweedfs_data_is_private(tmp_path, usual_umask):
    server = EmbeddedSeaweedFS(tmp_path / "data")
    with server:
        store = server.blobstore(bucket_name("private"))
        store.ensure_bucket()
        store.put("a/b.txt", io.BytesIO(b"the text of a document"), 22, "text/plain")
    assert _modes(tmp_path / "data") == {}


def test_init_repairs_an_installation_with_loose_modes_and_says_so(install):
    assert _cli("init").exit_code == 0
    root = install.data_dir
    (root / "previews").mkdir()
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert "eakte.db" in _modes(root)
    result = _cli("init")
    assert result.exit_code == 0, result.output
    assert "made private" in result.output
    assert f"{root / 'eakte.db'} 0644 -> 0600" in result.output
    assert f"{root / 'previews'} 0755 -> 0700" in result.output
    assert _modes(root) == {}
    again = _cli("init")
    assert "made private" not in again.output


def test_verify_reports_loose_modes(install):
    assert _cli("init").exit_code == 0
    assert _cli("verify").exit_code == 0
    (install.data_dir / "eakte.db").chmod(0o644)
    result = _cli("verify")
    assert result.exit_code == ExitCode.verify_failed, result.output
    assert f"data dir: {install.data_dir / 'eakte.db'}: mode 0644, should be 0600" in result.output
