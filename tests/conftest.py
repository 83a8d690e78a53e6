import os
import tempfile

import pytest

from eakte.passwords import use_cheapest_parameters

# Jobs enqueued by code under test go to a queue of this test process, never to a real one nor to
# another xdist worker's: workers inherit the controller's environment, so a data dir made by
# the controller's import of this file is replaced by one of the worker's own (a data dir the
# user set is kept).
_MADE_HERE = "EAKTE_TEST_SESSION_DATA_DIR"
if os.environ.get("EAKTE_DATA_DIR") in (None, os.environ.get(_MADE_HERE)):
    os.environ["EAKTE_DATA_DIR"] = tempfile.mkdtemp(prefix="eakte-test-session-")
    os.environ[_MADE_HERE] = os.environ["EAKTE_DATA_DIR"]

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.world",
    "tests.fixtures.tsa",
]

use_cheapest_parameters()  # sign-in is tested; argon2's cost is not what the suite measures

_BROWSER = "tests/browser/"


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
