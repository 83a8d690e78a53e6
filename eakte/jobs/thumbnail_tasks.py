"""The thumbnail job (issue 22): render a document's first page small, once; the web asks for
it when a list shows a document that has none yet. Bound to the runtime by eakte.jobs.factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eakte.runtime import Runtime


def render_thumbnail_task(rt: Runtime, document_id: int) -> bool:
    from eakte.services import thumbnails

    with rt.session() as session:
        return thumbnails.render(session, rt.store, rt.settings.data_dir, document_id) is not None
