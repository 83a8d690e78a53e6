"""Issue 13 in the web UI: the "new node" form and the CSV import never silently move or rename
(changes need a confirmation page bound to the file); moves are refused under a legal hold
(R12); the event date is the records officers' (R7)."""

import base64
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from eakte.models import Case, FilePlanNode
from eakte.services import cases, fileplan
from retention import holds
from tests.fixtures.app import csrf_token
from tests.fixtures.plan70 import ESCAPE_CSV, PLAN_70, parent_of, release_all_holds


@pytest.fixture
def plan_70(world):
    with world.session() as s:
        fileplan.import_csv(s, world.officer, PLAN_70.encode())


def _hold_70(world):
    with world.session() as s:
        holds.place_hold(s, world.officer, "node", "70", reason="Klage", authority="VG 5 K 1/26")


def _upload(client, data: bytes):
    page = client.get("/registratur/aktenplan").get_data(as_text=True)
    return client.post(
        "/registratur/aktenplan",
        data={
            "import-csrf_token": csrf_token(page),
            "import-csv_file": (io.BytesIO(data), "p.csv"),
        },
        content_type="multipart/form-data",
    )


def _confirm_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(confirm-[a-z_]+)"[^>]*value="([^"]*)"', html))


def test_r12_new_node_form_refuses_an_existing_code(world, sign_in, plan_70):
    _hold_70(world)
    client = sign_in("registratur")
    page = client.get("/registratur/aktenplan").get_data(as_text=True)
    response = client.post(
        "/registratur/aktenplan",
        data={
            "node-csrf_token": csrf_token(page),
            "node-code": "70.1",
            "node-title": "Ansiedlungen",
            "node-parent": "71",
        },
    )
    assert response.status_code == 409
    assert "Eine Aktenplaneinheit mit diesem Kürzel besteht bereits" in response.get_data(
        as_text=True
    )
    assert parent_of(world, "70.1") == "70"


def test_csv_changes_need_a_confirmation_bound_to_the_file(world, sign_in, plan_70):
    client = sign_in("registratur")
    listed = _upload(client, ESCAPE_CSV.encode())
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200 and "Änderungen am Aktenplan bestätigen" in html
    assert re.search(r"70\.1</td>\s*<td>übergeordnete Einheit</td>\s*<td>70</td><td>71</td>", html)
    assert parent_of(world, "70.1") == "70"
    fields = _confirm_fields(html)
    # another file under the same token is not applied: the page lists its changes anew
    other_file = b"code;title;parent;schedule\n70;X;;\n"
    other = fields | {"confirm-csv_data": base64.b64encode(other_file).decode()}
    again = client.post("/registratur/aktenplan", data=other).get_data(as_text=True)
    assert "geändert, oder es ist eine andere Datei" in again
    garbled = client.post(
        "/registratur/aktenplan", data=fields | {"confirm-csv_data": "kein base64!"}
    )
    assert garbled.status_code == 400
    with world.session() as s:
        assert s.scalar(select(FilePlanNode.title).where(FilePlanNode.code == "70")) == (
            "Wirtschaftsförderung"
        )
    applied = client.post("/registratur/aktenplan", data=fields)
    assert applied.status_code == 302
    assert parent_of(world, "70.1") == "71"


def test_r12_confirmed_csv_move_and_move_form_refused_under_hold(world, sign_in, plan_70):
    _hold_70(world)
    client = sign_in("registratur")
    fields = _confirm_fields(_upload(client, ESCAPE_CSV.encode()).get_data(as_text=True))
    refused = client.post("/registratur/aktenplan", data=fields)
    assert refused.status_code == 409
    assert "Aufbewahrungssperre (Legal Hold) erfasst" in refused.get_data(as_text=True)
    page = client.get("/registratur/aktenplan").get_data(as_text=True)
    moved = client.post(
        "/registratur/aktenplan",
        data={"move-csrf_token": csrf_token(page), "move-code": "70.1", "move-parent": "71"},
    )
    assert moved.status_code == 409
    assert parent_of(world, "70.1") == "70"
    release_all_holds(world)
    page = client.get("/registratur/aktenplan").get_data(as_text=True)
    moved = client.post(
        "/registratur/aktenplan",
        data={"move-csrf_token": csrf_token(page), "move-code": "70.1", "move-parent": "71"},
    )
    assert moved.status_code == 302 and parent_of(world, "70.1") == "71"


def test_r12_case_move_form_refused_under_hold_allowed_after(world, sign_in, plan_70):
    with world.session() as s:
        case = cases.create_case(s, world.officer, "70.1", "Ansiedlung Müller")
    _hold_70(world)
    client = sign_in("registratur")
    url = f"/akten/{case.uuid}"
    page = client.get(url).get_data(as_text=True)
    assert "Akte verschieben" in page
    data = {"csrf_token": csrf_token(page), "node": "71"}
    assert client.post(url + "/verschieben", data=data).status_code == 409
    release_all_holds(world)
    assert client.post(url + "/verschieben", data=data).status_code == 302
    with world.session() as s:
        assert s.get(Case, case.id).node.code == "71"
    assert "verschoben" in client.get(url).get_data(as_text=True)  # in the history


def test_event_date_only_for_records_officers_on_the_case_page(world, sign_in):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Weber")
    url = f"/akten/{case.uuid}"
    clerk = sign_in("sachb")
    page = clerk.get(url).get_data(as_text=True)
    assert 'name="event_date"' not in page
    token = csrf_token(page)
    # the edit form ignores a smuggled event date; the records officers' form refuses the clerk
    clerk.post(
        url + "/bearbeiten",
        data={"csrf_token": token, "title": "Gewerbe Weber", "event_date": "1990-01-01"},
    )
    assert (
        clerk.post(
            url + "/ereignisdatum", data={"csrf_token": token, "event_date": "1990-01-01"}
        ).status_code
        == 403
    )
    with world.session() as s:
        assert s.get(Case, case.id).event_date is None
    officer = sign_in("registratur")
    page = officer.get(url).get_data(as_text=True)
    assert 'name="event_date"' in page
    response = officer.post(
        url + "/ereignisdatum", data={"csrf_token": csrf_token(page), "event_date": "2030-06-30"}
    )
    assert response.status_code == 302
    with world.session() as s:
        assert s.get(Case, case.id).event_date == date(2030, 6, 30)


def test_clerk_moves_a_process_between_cases_on_the_case_page(world, sign_in):
    with world.session() as s:
        source = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Quelle")
        process = cases.add_process(s, world.clerk, source.id, "Falsch angelegt")
        target = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Ziel")
    client = sign_in("sachb")
    url = f"/akten/{source.uuid}"
    page = client.get(url).get_data(as_text=True)
    assert "Vorgang in eine andere Akte verschieben" in page
    response = client.post(
        url + "/vorgang-verschieben",
        data={
            "csrf_token": csrf_token(page),
            "process_uuid": str(process.uuid),
            "reference": target.file_reference,
        },
    )
    assert response.headers["Location"].endswith(f"/akten/{target.uuid}")
    with world.session() as s:
        assert s.get(Case, target.id).processes[0].title == "Falsch angelegt"
