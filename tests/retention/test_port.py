"""The retention port (issue 15): the core reaches retention only through ``eakte.ports``, wired
by the composition root on the runtime's sessions; an unwired session refuses loudly."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from eakte import ports
from eakte.db import make_session_factory
from eakte.errors import LegalHoldActive
from eakte.models import Case, User
from eakte.services import cases
from retention.port import RetentionService

# The core modules that used to call retention directly.
CORE = (
    "eakte.models",
    "eakte.services.cases",
    "eakte.services.documents",
    "eakte.services.fileplan",
    "eakte.services.migration",
    "eakte.services.scanning",
    "eakte.services.objects",
    "eakte.ingest.process",
    "eakte.verify",
)


class Recording(RetentionService):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def on_case_closed(self, session, case) -> None:
        self.calls.append(("closed", case.id))
        super().on_case_closed(session, case)

    def ensure_not_held(self, session, obj) -> None:
        self.calls.append(("held?", obj.id))
        raise LegalHoldActive("held by the test's port")


def test_the_core_imports_nothing_of_retention():
    code = (
        f"import sys\nfor m in {CORE!r}: __import__(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'retention'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_core_asks_the_wired_port(world):
    with world.session() as s:
        case = cases.create_case(s, world.officer, "32.10.05", "Gewerbe Port")
        cases.add_process(s, world.officer, case.id, "Vorgang 1")
    port = Recording()
    sessions = make_session_factory(world.rt.engine)
    ports.wire(sessions, retention=port)
    with sessions() as s:
        officer = s.get(User, world.officer.id)
        with pytest.raises(LegalHoldActive, match="test's port"):
            cases.add_process(s, officer, case.id, "Vorgang 2")
        cases.close_case(s, officer, case.id, on=date(2010, 3, 10))
        assert s.get(Case, case.id).retention_end == date(2021, 1, 1)  # the real rule ran
    assert port.calls == [("held?", case.id), ("closed", case.id)]


def test_an_unwired_session_refuses_instead_of_skipping_the_hold_check(world):
    with world.session() as s:
        case = cases.create_case(s, world.officer, "32.10.05", "Gewerbe ohne Port")
    sessions = make_session_factory(world.rt.engine)  # not built by the runtime
    with sessions() as s, pytest.raises(ports.PortNotWired):
        cases.add_process(s, s.get(User, world.officer.id), case.id, "Vorgang 1")
    with world.session() as s:
        assert s.get(Case, case.id).processes == []
