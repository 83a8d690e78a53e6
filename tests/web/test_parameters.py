"""Issue 14, finding 9: query and form parameters out of range or malformed are answered 400
with a German message on the error page, never a 500 or a traceback."""

import io

import pytest

from tests.fixtures.app import csrf_token

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "user, path",
    [
        ("sachb", f"/?seite={HUGE}"),
        ("sachb", "/?seite=0"),
        ("sachb", "/?seite=zwei"),
        ("registratur", f"/registratur/protokoll?seite={HUGE}"),
        ("registratur", "/registratur/protokoll?since=2026-02-30"),
        ("registratur", "/registratur/protokoll?action=drop_table"),
        ("registratur", f"/aussonderung/?seite={HUGE}"),
        ("registratur", "/aussonderung/?year=99999999999"),
        ("registratur", "/aussonderung/liste.csv?year=99999999999"),
        ("sachb", f"/aktenplan/32.10?seite={HUGE}"),
        ("sachb", f"/suche/?q=Antrag&seite={HUGE}"),
        ("sachb", "/suche/?q=Antrag&sortierung=laenge"),
    ],
)
def test_bad_query_parameter_is_a_german_400_page(world, sign_in, user, path):
    response = sign_in(user).get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, path
    assert "ungültig" in html and "Traceback" not in html


def test_bad_form_parameter_is_a_german_400_page(world, sign_in):
    client = sign_in("registratur")
    page = client.get("/aussonderung/").get_data(as_text=True)
    response = client.post(
        "/aussonderung/vorschlag", data={"csrf_token": csrf_token(page), "case": HUGE}
    )
    assert response.status_code == 400 and "ungültig" in response.get_data(as_text=True)


def test_good_parameters_still_work(world, sign_in):
    client = sign_in("registratur")
    assert client.get("/registratur/protokoll?seite=2&since=2026-02-28").status_code == 200
    assert client.get("/aussonderung/?year=2010&seite=1").status_code == 200


@pytest.mark.parametrize("ident", [HUGE, "²"])
def test_ids_beyond_the_database_or_not_ascii_are_not_found(world, sign_in, ident):
    """Found by the fuzzer: a number too large for the database (or a digit that is not
    0-9) as a process id was a 500."""
    client = sign_in("sachb")
    assert client.get(f"/hochladen/?vorgang={ident}").status_code == 404
    token = csrf_token(client.get("/hochladen/").get_data(as_text=True))
    response = client.post(
        "/hochladen/",
        data={"csrf_token": token, "process": ident, "files": (io.BytesIO(b"%PDF-1.4"), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
