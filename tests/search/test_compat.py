"""The Whoosh internals the index reads and writes block-wise (``indexing.whoosh_compat``) are
checked at start-up: the check passes on the installed Whoosh and fails loudly, naming Whoosh
and its version, when an internal is gone or the version is outside the supported range."""

from __future__ import annotations

import pytest
import whoosh
from whoosh.codec.whoosh3 import W3LeafMatcher, W3PostingsWriter
from whoosh.matching import ListMatcher

from eakte.config import S3Settings, Settings
from eakte.errors import EDGE_ERRORS, ExitCode
from eakte.runtime import open_runtime
from indexing import compat, whoosh_compat
from indexing.errors import IncompatibleDependency


def _fails(match: str = "") -> IncompatibleDependency:
    with pytest.raises(IncompatibleDependency) as caught:
        whoosh_compat.self_check()
    exc = caught.value
    assert exc.dependency == "Whoosh-Reloaded" and exc.version == whoosh_compat.version()
    assert f"Whoosh-Reloaded {whoosh_compat.version()}" in str(exc)
    assert match in str(exc)
    # A typed error the edges map: the CLI exits with the configuration code.
    assert isinstance(exc, EDGE_ERRORS) and exc.exit_code == ExitCode.config
    return exc


def test_the_check_passes_on_the_installed_whoosh():
    whoosh_compat.self_check()
    compat.self_check()


def test_a_block_reader_that_is_gone_fails_the_check(monkeypatch):
    monkeypatch.delattr(W3LeafMatcher, "_read_data")
    _fails("_read_data")


def test_inline_postings_under_another_name_fail_the_check(monkeypatch):
    original = ListMatcher.__init__

    def renamed(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._docids = self.__dict__.pop("_ids")

    monkeypatch.setattr(ListMatcher, "__init__", renamed)
    _fails("_ids")


def test_a_block_writer_that_is_gone_fails_the_check(monkeypatch):
    monkeypatch.delattr(W3PostingsWriter, "_write_block")
    _fails("_write_block")


def test_a_block_read_that_answers_differently_fails_the_check(monkeypatch):
    """Not an error but a wrong answer: the check compares with Whoosh's public reading."""
    real = whoosh_compat.LeafBlock.data

    def shifted(self):
        ids, weights, values = real(self)
        return ids + 1, weights, values

    monkeypatch.setattr(whoosh_compat.LeafBlock, "data", shifted)
    _fails("differ")


@pytest.mark.parametrize("version", [(2, 8, 0), (3, 0, 0), (2, 6, 9)])
def test_a_version_outside_the_supported_range_fails_the_check(monkeypatch, version):
    monkeypatch.setattr(whoosh, "__version__", version)
    _fails("supports 2.7.0 up to (not including) 2.8.0")


def test_the_runtime_opens_no_search_backend_when_the_check_fails(monkeypatch, tmp_path):
    monkeypatch.delattr(W3LeafMatcher, "_read_data")
    compat.self_check.cache_clear()  # checked already in this process: check again
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'eakte.db'}",
        s3=S3Settings(endpoint="", access_key="", secret_key="", bucket="b"),
    )
    try:
        with (
            open_runtime(settings, require_schema=False) as rt,
            pytest.raises(IncompatibleDependency),
        ):
            rt.search  # noqa: B018 (built on first use, after the check)
    finally:
        compat.self_check.cache_clear()
