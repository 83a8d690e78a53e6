"""Issue 14, finding 13 (R20): looking at a document's page previews is a view and is audited,
at most once per user, document and hour (a document of 40 pages is not 40 entries), also
when several previews are asked for at once."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update

from eakte.models import AuditEvent
from eakte.models.audit import PreviewView
from eakte.services import previews
from tests.ingest.conftest import born_digital_pdf


def views(desk, document) -> list[str]:
    with desk.rt.session() as s:
        return list(
            s.scalars(
                select(AuditEvent.username)
                .where(AuditEvent.action == "view", AuditEvent.object_uuid == str(document.uuid))
                .order_by(AuditEvent.id)
            )
        )


def preview(desk, user, document, page: int):
    with desk.rt.session() as s:
        return previews.page_image(
            s, user, desk.rt.store, desk.rt.settings.data_dir, str(document.uuid), page
        )


def test_r20_previews_are_audited_once_per_user_document_and_hour(desk, world):
    document = desk.take(born_digital_pdf(3), "bescheid.pdf", settings=desk.rt.settings).document
    for page in (1, 2, 1, 3):  # rendered, rendered, cached, rendered
        assert preview(desk, world.clerk, document, page).exists()
    assert views(desk, document) == ["sachb"]
    preview(desk, world.scanner, document, 1)
    assert views(desk, document) == ["sachb", "scan"]
    with desk.rt.session() as s, s.begin():  # an hour has passed for the clerk
        s.execute(update(PreviewView).values(hour=PreviewView.hour - 1))
    preview(desk, world.clerk, document, 2)
    assert views(desk, document) == ["sachb", "scan", "sachb"]


def test_r20_previews_asked_for_at_once_are_audited_once(desk, world):
    document = desk.take(born_digital_pdf(4), "antrag.pdf", settings=desk.rt.settings).document
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda page: preview(desk, world.clerk, document, page), [1, 2, 3, 4]))
    assert views(desk, document) == ["sachb"]
