"""Issue 15: a view that changed what the search index shows asks for an indexer run itself
(``runtime.jobs.index_soon``), instead of a hook after every POST: a page looked at, or a
change refused, asks for nothing; the run asked for makes the change searchable."""

from __future__ import annotations

from eakte.models import User
from eakte.services import cases
from eakte.services import search as search_service
from indexing.schema import case_key
from tests.fixtures.app import csrf_token


def _index_requests(rt) -> list:
    """The indexer runs waiting in the runtime's queue (now or at the end of the window)."""
    queue = rt.jobs.huey
    return [t for t in [*queue.pending(), *queue.scheduled()] if t.name == "index_pending_task"]


def test_only_a_successful_change_asks_the_indexer(world, sign_in):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Weber")
    url = f"/akten/{case.uuid}"
    client = sign_in("sachb")
    page = client.get(url)
    assert page.status_code == 200
    assert client.get("/suche/", query_string={"q": "Weber"}).status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    # Refused by the form (no title) and by the service (a clerk sets no event date).
    assert client.post(url + "/bearbeiten", data={"csrf_token": token}).status_code == 302
    refused = client.post(
        url + "/ereignisdatum", data={"csrf_token": token, "event_date": "2030-01-01"}
    )
    assert refused.status_code == 403
    assert _index_requests(world.rt) == []

    changed = client.post(
        url + "/bearbeiten", data={"csrf_token": token, "title": "Gewerbe Zeppelin"}
    )
    assert changed.status_code == 302
    (request,) = _index_requests(world.rt)

    world.rt.jobs.huey.execute(request)  # what a worker does with it
    with world.session() as s:
        found = search_service.search(s, s.get(User, world.clerk.id), world.rt.search, "Zeppelin")
    assert case_key(case.id) in {hit.key for hit in found.hits}
