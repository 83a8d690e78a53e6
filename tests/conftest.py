import pytest

from eakte import metrics
from eakte.passwords import use_cheapest_parameters

# Nothing needs the environment before the first import: every runtime a test builds (the
# ``rt`` fixture) has its own data dir, and with it its own job queue.

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.world",
    "tests.fixtures.tsa",
    "tests.fixtures.smtp",  # issue 16: aiosmtpd for the workflow notices
    "tests.fixtures.dovecot",
]

use_cheapest_parameters()  # sign-in is tested; argon2's cost is not what the suite measures

_BROWSER = "tests/browser/"


@pytest.fixture(scope="session", autouse=True)
def _metrics_shared_with_subprocesses(tmp_path_factory):
    """Counters in prometheus_client's multiprocess mode, as ``eakte serve`` keeps them, so
    that a test can add up what its subprocesses counted (each xdist worker has its own)."""
    metrics.use_multiprocess_dir(tmp_path_factory.mktemp("metrics"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (scripts/test), with the browser tests as one group: they share one
    live server and one Chromium per process, so on one worker both start once.

    Not by ``xdist_group`` marks: pytest-xdist 3.8 groups by a suffix it writes to
    ``item._nodeid``, which pytest 9 no longer reads, so the marks group nothing."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _BROWSER if nodeid.startswith(_BROWSER) else nodeid

    return BrowserGroupScheduling(config, log)
