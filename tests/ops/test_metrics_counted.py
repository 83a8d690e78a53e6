"""Issue 15: the counters move because the code doing the work counts it (OCR in the ingest
pipeline, a search in the search service, a disposal run in retention), read back through
``/metrics``: each test fails if its production code stops counting."""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eakte.models import User
from eakte.services import search as search_service
from eakte.services.indexer import index_pending
from retention.execution import execute_request
from tests.fixtures.app import replace_settings
from tests.fixtures.s3 import TEST_FLOOR
from tests.ingest.conftest import Desk, image_bytes, scan_image, scanned_pdf
from tests.retention.conftest import Records

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

OCR_PAGES = ("eakte_ocr_pages_total", ())
SEARCHES = ("eakte_search_duration_seconds_count", ())
DISPOSALS_OK = ("eakte_disposal_runs_total", (("outcome", "ok"),))


@pytest.fixture
def settings(settings):
    """A disposal deletes only what no lock holds: a floor of seconds the test can wait out."""
    return replace_settings(settings, min_retention=TEST_FLOOR)


@pytest.fixture
def counted(client):
    """``counted(key)``: the value of one sample as ``/metrics`` reports it now."""

    def read(key: tuple[str, tuple]) -> float:
        body = client.get("/metrics").get_data(as_text=True)
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }
        return samples.get(key, 0.0)

    return read


def test_ocr_counts_each_page_it_recognised(world, counted, tmp_path):
    desk = Desk(world, tmp_path)
    before = counted(OCR_PAGES)
    scan = desk.take(scanned_pdf([scan_image(), scan_image()]), "zwei-seiten.pdf")
    image = desk.take(image_bytes(scan_image()), "eine-seite.png")
    assert desk.process(scan.document.id) == "ready"
    assert desk.process(image.document.id) == "ready"
    assert counted(OCR_PAGES) - before == 3


def test_a_search_is_timed(world, counted):
    world.inbox_document("Zeppelin Antrag")
    index_pending(world.rt)
    before = counted(SEARCHES)
    with world.session() as s:
        clerk = s.get(User, world.clerk.id)
        for text in ("Zeppelin", "Antrag"):
            search_service.search(s, clerk, world.rt.search, text)
    assert counted(SEARCHES) - before == 2


def test_a_disposal_run_is_counted_and_a_refused_one_is_not(world, counted):
    from eakte.errors import RequestNotApproved
    from retention import disposal

    records = Records(world)
    case = records.case("Gewerbe 2010", closed_on=date(2010, 3, 1))
    later = records.case("Gewerbe 2011", closed_on=date(2011, 3, 1))
    before = counted(DISPOSALS_OK)
    with world.session() as s:
        proposed = disposal.propose(s, world.officer, [later.id])  # not approved
        with pytest.raises(RequestNotApproved):
            execute_request(s, world.officer, records.store, proposed.id)
    assert counted(DISPOSALS_OK) == before
    request = records.approved(case.id)
    with world.session() as s:
        assert execute_request(s, world.officer, records.store, request.id).completed
    assert counted(DISPOSALS_OK) - before == 1
