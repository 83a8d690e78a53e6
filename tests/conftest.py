from eakte.passwords import use_cheapest_parameters

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.world",
]

use_cheapest_parameters()  # sign-in is tested; argon2's cost is not what the suite measures
