"""Helpers for the workflow tests: a filed document in an open case, steps, a settable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from eakte.models.workflow import Instruction
from eakte.services import cases, documents
from eakte.workflow.clock import set_clock
from eakte.workflow.routes import StepSpec


@dataclass
class Desk:
    world: object
    now: datetime

    def filed(self, title: str = "Bescheid", case_title: str = "Gewerbe Bäckerei Schmidt"):
        """(case, process, document): a document filed into a new case of the clerk's unit."""
        w = self.world
        with w.session() as s:
            case = cases.create_case(s, w.clerk, "32.10.05", case_title)
            process = cases.add_process(s, w.clerk, case.id, "Anmeldung")
        doc = w.inbox_document(title)
        with w.session() as s:
            documents.file_document(s, w.clerk, doc.id, process.id)
        return case, process, doc

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)

    def today(self):
        return self.now.date()


def step(group, instruction, user=None, unit=None, deadline=None, note=""):
    return StepSpec(
        group=group,
        instruction=Instruction(instruction),
        user_id=user.id if user is not None else None,
        unit_id=unit,
        deadline=deadline,
        note=note,
    )


@pytest.fixture
def desk(world):
    state = Desk(world, datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    set_clock(world.rt.sessions, lambda: state.now)
    return state
