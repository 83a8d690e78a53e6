import os
import tempfile

# Jobs enqueued by code under test go to a queue of this test session, never to a real one.
os.environ.setdefault("EAKTE_DATA_DIR", tempfile.mkdtemp(prefix="eakte-test-session-"))

from eakte.passwords import use_cheapest_parameters

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.world",
    "tests.fixtures.tsa",
]

use_cheapest_parameters()  # sign-in is tested; argon2's cost is not what the suite measures
