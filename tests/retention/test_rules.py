"""R7: the retention end — 1 January of the year after closure (or the event) plus the period."""

from datetime import date

import pytest

from eakte.models import RetentionTrigger
from retention.rules import retention_end

CLOSURE = RetentionTrigger.closure.value
EVENT = RetentionTrigger.event.value


def test_r7_retention_end_example_from_the_rule():
    assert retention_end(10, CLOSURE, date(2015, 3, 10), None) == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("closed", "expected"),
    [
        (date(2015, 12, 31), date(2026, 1, 1)),  # the last day of the year still counts for 2015
        (date(2016, 1, 1), date(2027, 1, 1)),  # one day later: a whole year more
        (date(2015, 1, 1), date(2026, 1, 1)),
    ],
)
def test_r7_closure_dates_across_the_year_end(closed, expected):
    assert retention_end(10, CLOSURE, closed, None) == expected


def test_r7_closure_on_29_february():
    assert retention_end(10, CLOSURE, date(2016, 2, 29), None) == date(2027, 1, 1)
    assert retention_end(4, CLOSURE, date(2020, 2, 29), None) == date(2025, 1, 1)
    assert retention_end(0, CLOSURE, date(2024, 2, 29), None) == date(2025, 1, 1)


def test_r7_permanent_schedule_has_no_end():
    assert retention_end(None, CLOSURE, date(2015, 3, 10), None) is None


def test_r7_open_case_has_no_end():
    assert retention_end(10, CLOSURE, None, None) is None
    assert retention_end(10, EVENT, None, date(2015, 3, 10)) is None


def test_r7_event_trigger_counts_from_the_event_date():
    # A permit expired on 30 June 2018, the case was closed earlier: the event decides.
    assert retention_end(5, EVENT, date(2016, 4, 1), date(2018, 6, 30)) == date(2024, 1, 1)
    # Closed, but the event's date is not entered yet: not disposable.
    assert retention_end(5, EVENT, date(2016, 4, 1), None) is None
