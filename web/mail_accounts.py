"""Mail accounts (issue 17): administrators and records officers keep the IMAP accounts whose
mail is taken into an inbox; the services check who may. The secret is a write-only field:
it is never rendered back into a page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from eakte.errors import EakteError
from eakte.ingest import imap
from eakte.models import OrgUnit
from eakte.services import mail_accounts
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm, PageForm

bp = Blueprint("mail", __name__, url_prefix="/postfaecher")


class AccountForm(PageForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    host = StringField(_l("IMAP server"), validators=[DataRequired(), Length(max=255)])
    port = IntegerField(
        _l("Port (empty: 993 or 143)"), validators=[Optional(), NumberRange(1, 65535)]
    )
    security = SelectField(
        _l("Connection"),
        choices=[
            SelectChoice("imaps", _l("IMAPS (TLS)")),
            SelectChoice("starttls", _l("STARTTLS")),
        ],
    )
    auth = SelectField(
        _l("Sign-in"),
        choices=[
            SelectChoice("password", _l("Password")),
            SelectChoice("xoauth2", _l("OAuth 2 access token (XOAUTH2)")),
        ],
    )
    login = StringField(_l("User name on the server"), validators=[DataRequired(), Length(max=255)])
    secret = PasswordField(
        _l("Password or token (stored encrypted, never shown again)"),
        validators=[DataRequired(), Length(max=4000)],
    )
    inbox = SelectField(_l("Inbox"))
    folders = StringField(
        _l("Folders read (comma-separated)"), default="INBOX", validators=[Length(max=1000)]
    )
    after_action = SelectField(
        _l("Afterwards"),
        choices=[
            SelectChoice("move", _l("move to folder")),
            SelectChoice("flag", _l("set flag")),
        ],
    )
    after_folder = StringField(_l("Folder"), default="eAkte", validators=[Length(max=255)])
    after_flag = StringField(_l("Flag"), default="$eAkte", validators=[Length(max=100)])
    sender_filter = StringField(_l("Only senders containing"), validators=[Length(max=500)])
    subject_filter = StringField(_l("Only subjects containing"), validators=[Length(max=500)])
    poll_minutes = IntegerField(
        _l("Poll interval (minutes)"), default=5, validators=[NumberRange(1, 1440)]
    )


@bp.route("/", methods=["GET", "POST"])
def accounts():
    accounts = mail_accounts.list_accounts(db(), actor())  # checks who may
    form = AccountForm(prefix="account")
    units = list(
        db().scalars(
            select(OrgUnit).where(OrgUnit.tenant_id == actor().tenant_id).order_by(OrgUnit.code)
        )
    )
    form.inbox.choices = [SelectChoice(u.code, f"{u.code} {u.name}") for u in units]
    if form.submit_ok():
        spec = mail_accounts.AccountSpec(
            name=form.name.data,
            host=form.host.data,
            port=form.port.data,
            security=form.security.data,
            auth=form.auth.data,
            username=form.login.data,
            inbox=form.inbox.data,
            folders=form.folders.data or "INBOX",
            after_action=form.after_action.data,
            after_folder=form.after_folder.data or "",
            after_flag=form.after_flag.data or "",
            sender_filter=form.sender_filter.data or "",
            subject_filter=form.subject_filter.data or "",
            poll_minutes=form.poll_minutes.data,
        )
        try:
            mail_accounts.add_account(
                db(), actor(), runtime().settings, spec, form.secret.data, replace=True
            )
        except EakteError as exc:
            db().rollback()
            flash(_(exc.user_message), "error")
        else:
            flash(_("Mail account %(name)s added.", name=spec.name), "info")
            return redirect(url_for("mail.accounts"))
    form.secret.data = ""  # a write-only field
    units_by_id = {u.id: u for u in units}
    return render_template(
        "mail/accounts.html",
        accounts=accounts,
        units=units_by_id,
        form=form,
        action_form=ActionForm(),
    )


@bp.post("/<name>/testen")
def test(name):
    if ActionForm().validate_on_submit():
        account = mail_accounts.get_account(db(), actor(), name)
        secret = mail_accounts.secret_of(runtime().settings, account)
        try:
            counts = imap.folder_counts(account, secret)
        except EakteError as exc:
            flash(_("%(name)s: %(message)s", name=name, message=_(exc.user_message)), "error")
        else:
            summary = ", ".join(f"{folder}: {n}" for folder, n in counts.items())
            flash(
                _(
                    "%(name)s: sign-in works; messages waiting: %(summary)s",
                    name=name,
                    summary=summary,
                ),
                "info",
            )
    return redirect(url_for("mail.accounts"))


@bp.post("/<name>/abrufen")
def run(name):
    if ActionForm().validate_on_submit():
        account = mail_accounts.get_account(db(), actor(), name)
        done = mail_accounts.run_accounts(
            db(),
            runtime().store,
            runtime().settings,
            [account.id],
            enqueue=runtime().jobs.enqueue,
            attempts=1,  # a person waits: no backoff here, the worker's poll tries again
        )
        report = done[name]
        if isinstance(report, str):
            flash(
                _(
                    "%(name)s: the mail server could not be reached or refused the sign-in.",
                    name=name,
                ),
                "error",
            )
        else:
            flash(
                _(
                    "%(name)s: %(accepted)s message(s) taken in, %(quarantined)s quarantined.",
                    name=name,
                    accepted=report.accepted + report.duplicate,
                    quarantined=report.quarantined,
                ),
                "info",
            )
    return redirect(url_for("mail.accounts"))


@bp.post("/<name>/deaktivieren")
def disable(name):
    if ActionForm().validate_on_submit():
        mail_accounts.set_active(db(), actor(), name, False)
        flash(_("Mail account %(name)s disabled.", name=name), "info")
    return redirect(url_for("mail.accounts"))
