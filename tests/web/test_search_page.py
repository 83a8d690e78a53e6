"""The search page and the search API: highlighted, escaped, permission-aware."""

import pytest
from sqlalchemy import update

from eakte.models import Document
from eakte.models.api import Scope
from eakte.services import api_tokens, cases, documents
from eakte.services.indexer import index_pending

# The page and the API against each search backend, as the search suite (tests/search/conftest.py)
from tests.search.conftest import (  # noqa: F401 (fixtures)
    database_url,
    search_backend,
    search_case,
    settings,
)


@pytest.fixture
def corpus(world):
    """Two ready documents with text in two org units' cases, indexed."""
    with world.session() as s:
        ours = cases.create_case(s, world.clerk, "32.10.05", "Gewerbeanmeldung Bäckerei")
        ours_p = cases.add_process(s, world.clerk, ours.id, "Anmeldung")
        other = cases.create_case(s, world.clerk_bau, "60.01", "Bauantrag Gartenhaus")
        other_p = cases.add_process(s, world.clerk_bau, other.id, "Antrag")
    texts = {
        "Gebühr": (
            "Die Gebühren für die Gewerbeanmeldung betragen 26 Euro. "
            '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
        ),
        "Baugebühr": "Die Gebühr für die Baugenehmigung im Gartenweg beträgt 300 Euro.",
    }
    docs = {}
    for (title, text), process, user in zip(
        texts.items(), (ours_p, other_p), (world.clerk, world.clerk_bau), strict=True
    ):
        unit = "32" if user is world.clerk else "60"
        doc = world.inbox_document(title, org_unit_code=unit)
        with world.session() as s:
            documents.file_document(s, user, doc.id, process.id)
            with s.begin():
                s.execute(
                    update(Document)
                    .where(Document.id == doc.id)
                    .values(status="ready", extracted_text=text, index_dirty=True)
                )
        docs[title] = doc
    index_pending(world.rt)
    return docs


def test_search_page_highlights_and_escapes(world, sign_in, corpus):
    html = sign_in("sachb").get("/suche/?q=Gebuehr").get_data(as_text=True)
    assert "1 Treffer" in html
    assert "<mark>" in html
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "Gartenweg" not in html  # the Bauamt's document stays invisible


def test_search_page_bad_queries_are_messages(world, sign_in, corpus):
    client = sign_in("sachb")
    for query in ['"unbalanced', "(a AND", "*", "x" * 5000, "gibtsnicht:wert", "\x00\x07"]:
        response = client.get("/suche/", query_string={"q": query, "erweitert": "1"})
        assert response.status_code == 200, query


def test_search_page_facets_filter(world, sign_in, corpus):
    client = sign_in("registratur")
    html = client.get("/suche/?q=Gebühr").get_data(as_text=True)
    assert "2 Treffer" in html
    narrowed = client.get("/suche/?q=Gebühr&node=60").get_data(as_text=True)
    assert "1 Treffer" in narrowed and "Gartenweg" in narrowed


def test_search_api(world, client, corpus):
    """operation: search"""
    with world.session() as s:
        _, plain = api_tokens.create_token(s, world.clerk, "Portal", {Scope.search})
    response = client.get("/api/v1/search?q=Gebühren", headers={"Authorization": f"Bearer {plain}"})
    body = response.get_json()
    assert response.status_code == 200 and body["total"] == 1
    assert body["hits"][0]["uuid"] == str(corpus["Gebühr"].uuid)
    bad = client.get(
        "/api/v1/search?q=(a+AND&advanced=1", headers={"Authorization": f"Bearer {plain}"}
    )
    assert bad.status_code in (200, 400)
