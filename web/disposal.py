"""Records officers: the disposal list, four-eyes requests, legal holds, archive transfer
(xdomea) and destruction certificates. Views call the retention services only."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from eakte.errors import NotFound
from eakte.models import Role
from eakte.services import role_grants
from retention import certificates as certificate_service
from retention import disposal, due, holds, transfer
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm, PageForm, ReasonForm
from web.params import checked, page_arg, uuid_list
from web.reindex import index_soon
from web.second_factor import CODE_ERRORS
from web.second_factor import confirm as confirm_second_factor
from web.second_factor import needed as second_factor_needed

bp = Blueprint("disposal", __name__, url_prefix="/aussonderung")
PAGE = 100


class DueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    node = StringField(_l("File plan code"), validators=[Optional(), Length(max=64)])
    org_unit = StringField(_l("Org unit"), validators=[Optional(), Length(max=40)])
    year = IntegerField(_l("Closed in year"), validators=[Optional(), NumberRange(1900, 2999)])


class ProposeForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class HoldForm(PageForm):
    target_type = SelectField(
        _l("Applies to"),
        choices=[
            SelectChoice("case", _l("Case (file reference)")),
            SelectChoice("node", _l("File plan node (code)")),
        ],
    )
    target = StringField(_l("File reference or code"), validators=[DataRequired(), Length(max=120)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    authority = StringField(
        _l("Ordered by (authority, file number)"), validators=[DataRequired(), Length(max=300)]
    )


class ReceiveForm(PageForm):
    message = FileField(
        _l("Archive's message (0502 or 0506, XML or ZIP)"), validators=[FileRequired()]
    )


def _filter() -> tuple[DueFilterForm, due.DueFilter]:
    form = checked(DueFilterForm(request.args))
    return form, due.DueFilter(
        node=form.node.data or None,
        org_unit=form.org_unit.data or None,
        closure_year=form.year.data,
    )


@bp.get("/")
def due_list():
    form, flt = _filter()
    page_no = page_arg()
    page = due.list_due(db(), actor(), flt, limit=PAGE, offset=(page_no - 1) * PAGE)
    query = {k: v for k, v in request.args.items() if k != "seite" and v}
    return render_template(
        "disposal/due.html",
        form=form,
        page=page,
        page_no=page_no,
        pages=max(1, -(-page.total // PAGE)),
        query=query,
        propose_form=ProposeForm(),
    )


@bp.get("/liste.csv")
def due_csv():
    _form, flt = _filter()
    out = io.StringIO()
    due.export_csv(db(), actor(), out, flt)
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=aussonderung.csv"},
    )


@bp.post("/vorschlag")
def propose():
    form = ProposeForm()
    cases = uuid_list("case")
    if form.validate_on_submit() and cases:
        created = disposal.propose(db(), actor(), cases, note=form.note.data or "")
        flash(_("Disposal proposed. A second records officer must approve it."), "info")
        return redirect(url_for("disposal.show_request", request_id=created.uuid))
    flash(_("Please choose at least one case."), "error")
    return redirect(url_for("disposal.due_list"))


@bp.get("/antraege")
def requests():
    return render_template("disposal/requests.html", requests=disposal.list_requests(db(), actor()))


@bp.get("/antraege/<uuid:request_id>")
def show_request(request_id):
    found = disposal.get_request(db(), actor(), str(request_id))
    deciders = [found.proposed_by_id, found.decided_by_id or actor().id]
    return render_template(
        "disposal/request.html",
        req=found,
        parties=[role_grants.role_provenance(db(), u, Role.records_officer) for u in deciders],
        action_form=ActionForm(),
        reject_form=ReasonForm(prefix="reject"),
        receive_form=ReceiveForm(prefix="receive"),
        ask_code=second_factor_needed(actor()),
    )


@bp.post("/antraege/<uuid:request_id>/genehmigen")
def approve(request_id):
    if ActionForm().validate_on_submit():
        try:  # issue 19: the second factor again before the decision
            confirm_second_factor(actor(), request.form.get("code"), "disposal_approval")
        except CODE_ERRORS as exc:
            flash(_(exc.user_message), "error")
            return redirect(url_for("disposal.show_request", request_id=request_id))
        approved = disposal.approve(db(), actor(), str(request_id))
        runtime().jobs.request_disposal(approved.id, actor().id)
        flash(_("Approved. The disposal runs in the background."), "info")
    return redirect(url_for("disposal.show_request", request_id=request_id))


@bp.post("/antraege/<uuid:request_id>/ablehnen")
def reject(request_id):
    form = ReasonForm(prefix="reject")
    if form.validate_on_submit():
        disposal.reject(db(), actor(), str(request_id), reason=form.reason.data)
        flash(_("Rejected."), "info")
    else:
        flash(_("A rejection needs a reason."), "error")
    return redirect(url_for("disposal.show_request", request_id=request_id))


@bp.post("/antraege/<uuid:request_id>/ausfuehren")
def execute(request_id):
    if ActionForm().validate_on_submit():
        found = disposal.get_request(db(), actor(), str(request_id))
        runtime().jobs.request_disposal(found.id, actor().id)
        flash(_("The disposal runs in the background."), "info")
    return redirect(url_for("disposal.show_request", request_id=request_id))


@bp.post("/antraege/<uuid:request_id>/xdomea/<any('0501', '0503'):message>")
def export_xdomea(request_id, message: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("disposal.show_request", request_id=request_id))
    with tempfile.TemporaryDirectory() as tmp:
        if message == "0501":
            result = transfer.export_offer(db(), actor(), str(request_id), Path(tmp))
        else:
            result = transfer.export_transfer(
                db(), actor(), runtime().store, str(request_id), Path(tmp)
            )
        data = result.path.read_bytes()
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=result.path.name,
    )


@bp.post("/antraege/<uuid:request_id>/antwort")
def receive(request_id):
    form = ReceiveForm(prefix="receive")
    if form.submit_ok():
        upload = form.message.data
        result = transfer.receive(db(), actor(), upload.read(), name=upload.filename or "")
        index_soon()  # cases taken over by the archive show so in search
        flash(
            _(
                "Message %(type)s read: %(a)s taken over or to archive, %(v)s to destroy.",
                type=result.message_type,
                a=len(result.archived),
                v=len(result.destroy),
            ),
            "info",
        )
    return redirect(url_for("disposal.show_request", request_id=request_id))


@bp.route("/sperren", methods=["GET", "POST"])
def legal_holds():
    form = HoldForm(prefix="hold")
    if form.submit_ok():
        holds.place_hold(
            db(),
            actor(),
            form.target_type.data,
            form.target.data.strip(),
            reason=form.reason.data,
            authority=form.authority.data,
            store=runtime().store,
        )
        flash(_("Legal hold placed."), "info")
        return redirect(url_for("disposal.legal_holds"))
    active = holds.list_holds(db(), actor())
    return render_template(
        "disposal/holds.html",
        form=form,
        release_form=ReasonForm(prefix="release"),
        holds=[(h, holds.describe_target(db(), h)) for h in active],
    )


@bp.post("/sperren/<uuid:hold_id>/aufheben")
def release(hold_id):
    form = ReasonForm(prefix="release")
    if form.validate_on_submit():
        holds.release_hold(
            db(), actor(), str(hold_id), reason=form.reason.data, store=runtime().store
        )
        flash(_("Legal hold released."), "info")
    else:
        flash(_("Releasing needs a reason."), "error")
    return redirect(url_for("disposal.legal_holds"))


@bp.get("/zertifikate")
def certificates():
    return render_template(
        "disposal/certificates.html",
        certificates=certificate_service.list_certificates(db(), actor()),
    )


@bp.get("/zertifikate/<uuid:certificate_id>.pdf")
def certificate_pdf(certificate_id):
    certificate = certificate_service.get_certificate(db(), actor(), str(certificate_id))
    if not certificate.pdf_key:
        raise NotFound(f"certificate {certificate_id} has no PDF yet")
    stream = runtime().store.open(
        certificate.pdf_key, certificate.pdf_version_id, certificate.pdf_sha256
    )
    return send_file(
        stream,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"vernichtungsnachweis-{certificate.uuid}.pdf",
        max_age=0,
    )
