"""Fixtures shared by the web tests."""

from datetime import date

import pytest

from eakte.services import cases


@pytest.fixture
def due_case(world):
    """A closed Gewerbe case whose retention ended long ago: due for disposal."""
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Alte Gewerbeakte", year=2009)
        cases.close_case(s, world.officer, case.id, on=date(2010, 5, 1))
    return case
