"""Cover sheets (issue 17): the PDF of a process's Deckblatt, from the case page."""

from __future__ import annotations

import re

from flask import Blueprint, Response

from eakte.services import cases, coversheet
from web.context import actor
from web.db import db

bp = Blueprint("coversheets", __name__, url_prefix="/deckblatt")


@bp.get("/<uuid:process_id>.pdf")
def process_sheet(process_id):
    process = cases.get_process(db(), actor(), str(process_id))  # checks who may see it
    pdf = coversheet.for_process(db(), actor(), process.case.file_reference, process.number)
    reference = re.sub(r"[^A-Za-z0-9.-]+", "_", process.case.file_reference)  # a header value
    name = f"Deckblatt-{reference}-{process.number}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
