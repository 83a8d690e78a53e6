import os
import tempfile
from pathlib import Path

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

_BROWSER = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(config, items) -> None:
    # The browser tests share one live server and one Chromium per process: with
    # `--dist loadgroup` (scripts/test) they all run on one xdist worker, so both start once.
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.path.is_relative_to(_BROWSER):
            item.add_marker(pytest.mark.xdist_group("browser"))
