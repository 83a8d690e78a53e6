"""Issue 27 in the web UI: records officers choose the archive's xdomea version, see the
messages, take in a container and see its report (refused ones with every problem)."""

import io
import zipfile

import pytest

from eakte.models import Role
from eakte.services import accounts
from retention.xdomea4 import exchange
from tests.fixtures.app import PASSWORD, csrf_token
from tests.retention.conftest import Records


@pytest.fixture
def handed_over(world, tmp_path, settings):
    from tests.retention.test_xdomea4_abgabe import _source_case

    records = Records(world)
    case = _source_case(world, records, "Gaststätte im Web", documents_=1)
    with world.session() as s:
        sent = exchange.export_handover(
            s, world.officer, world.rt.store, [case.id], tmp_path, recipient="Nachbar"
        )
    return case, sent.path


def test_xdomea_page_only_for_records_officers(world, sign_in):
    assert sign_in("registratur").get("/xdomea/").status_code == 200
    for username in ("sachb", "admin"):
        assert sign_in(username).get("/xdomea/").status_code == 403, username


def test_archive_version_and_take_in_with_report(world, sign_in, handed_over):
    _, container = handed_over
    with world.session() as s:  # taking in files documents: the intake right as well
        accounts.create_user(
            s,
            world.tenant,
            "archivar",
            PASSWORD,
            {Role.records_officer, Role.clerk},
            org_unit_code="32",
        )
    officer = sign_in("archivar")
    page = officer.get("/xdomea/").get_data(as_text=True)
    assert "xdomea-Austausch" in page and "0401" in page  # the handover is listed
    saved = officer.post(
        "/xdomea/",
        data={
            "csrf_token": csrf_token(page),
            "archive-name": "Landesarchiv <b>",
            "archive-version": "4.0.0",
            "archive-max_mb": "5",
        },
    )
    assert saved.status_code == 302
    page = officer.get("/xdomea/").get_data(as_text=True)
    assert "Landesarchiv &lt;b&gt;" in page and "4.0.0" in page

    # A container with a primary document missing: refused, the report names it.
    with zipfile.ZipFile(container) as zin:
        names = zin.namelist()
        dropped = next(n for n in names if not n.endswith(".xml"))
        broken = io.BytesIO()
        with zipfile.ZipFile(broken, "w") as zout:
            for name in names:
                if name != dropped:
                    zout.writestr(name, zin.read(name))
    posted = officer.post(
        "/xdomea/uebernahme",
        data={
            "csrf_token": csrf_token(page),
            "takein-node": "32.10.05",
            "takein-container": (io.BytesIO(broken.getvalue()), "broken.zip"),
        },
        content_type="multipart/form-data",
    )
    assert posted.status_code == 302
    report = officer.get(posted.headers["Location"]).get_data(as_text=True)
    assert "refused" in report and dropped in report

    assert "Übernahmebericht" in report
    # Without the CSRF token nothing is taken in.
    before = officer.get("/xdomea/").get_data(as_text=True).count("broken.zip")
    officer.post(
        "/xdomea/uebernahme",
        data={"takein-node": "32.10.05", "takein-container": (io.BytesIO(b"x"), "broken.zip")},
        content_type="multipart/form-data",
    )
    assert officer.get("/xdomea/").get_data(as_text=True).count("broken.zip") == before
