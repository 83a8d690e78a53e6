"""Administration: users, roles, org units and API tokens (services check who may), the
confirmation of role grants by a second holder, and each person's own API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from eakte.models import Role, UserKind
from eakte.models.api import Scope
from eakte.services import accounts, api_tokens, role_grants
from web.context import actor
from web.db import db
from web.forms import NONE, ActionForm

bp = Blueprint("admin", __name__, url_prefix="/verwaltung")

ROLE_LABELS = {
    Role.admin: _l("Administration"),
    Role.records_officer: _l("Records management"),
    Role.clerk: _l("Clerk"),
    Role.scanner: _l("Scanning"),
}
SCOPE_LABELS = {
    Scope.intake: _l("Deliver applications"),
    Scope.read: _l("Read cases and documents"),
    Scope.search: _l("Search"),
    Scope.download: _l("Download files"),
    Scope.workflow: _l("Routes and Wiedervorlagen"),
}


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


KIND_LABELS = {
    UserKind.person: _l("Person (signs in, sets their own password)"),
    UserKind.service: _l("Service account (API tokens only, no sign-in)"),
}


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        default=UserKind.person.value,
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
    )
    password = PasswordField(
        _l("Initial password (to be changed at the first sign-in)"),
        validators=[Optional(), Length(min=10, max=200)],
    )
    org_unit = SelectField(_l("Org unit"), validators=[Optional()])
    roles = Checkboxes(
        _l("Roles"),
        validators=[DataRequired()],
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
    )


class OrgUnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent = SelectField(_l("Parent unit"), validators=[Optional()])


class GrantForm(FlaskForm):
    username = SelectField(_l("User"), validators=[DataRequired()])
    role = SelectField(
        _l("Role"),
        validators=[DataRequired()],
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
    )


class TokenForm(FlaskForm):
    name = StringField(_l("Name (e.g. the portal)"), validators=[DataRequired(), Length(max=200)])
    username = SelectField(_l("Acts as service account"), validators=[DataRequired()])
    scopes = Checkboxes(
        _l("Scopes"),
        validators=[DataRequired()],
        choices=[SelectChoice(s.value, label) for s, label in SCOPE_LABELS.items()],
    )


def _unit_choices() -> list[SelectChoice]:
    units = accounts.list_org_units(db(), actor())
    return [NONE] + [SelectChoice(u.code, f"{u.code} {u.name}") for u in units]


@bp.route("/benutzer", methods=["GET", "POST"])
def users():
    form = UserForm()
    form.org_unit.choices = _unit_choices()
    if form.validate_on_submit():
        roles = {Role(r) for r in form.roles.data}
        options = {
            "display_name": form.display_name.data or "",
            "org_unit_code": form.org_unit.data or None,
        }
        if form.kind.data == UserKind.service.value:
            accounts.add_service_account(db(), actor(), form.username.data, roles, **options)
        elif not form.password.data:
            form.password.errors.append(_("A person needs an initial password."))
            return _users_page(form)
        else:
            accounts.add_user(
                db(), actor(), form.username.data, form.password.data, roles, **options
            )
        flash(_("User %(name)s added.", name=form.username.data), "info")
        return redirect(url_for("admin.users"))
    return _users_page(form)


def _users_page(form: UserForm, one_time: tuple[str, str] | None = None):
    everyone = accounts.list_users(db(), actor())
    return render_template(
        "admin/users.html",
        users=everyone,
        form=form,
        grant_form=_grant_form(everyone),
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
        pending=role_grants.pending_grants(db(), actor()),
        one_time=one_time,
    )


def _grant_form(everyone) -> GrantForm:
    form = GrantForm(prefix="grant")
    form.username.choices = [SelectChoice(u.username) for u in everyone]
    return form


@bp.post("/benutzer/rolle")
def grant():
    form = _grant_form(accounts.list_users(db(), actor()))
    if form.validate_on_submit():
        pending = accounts.grant_role(db(), actor(), form.username.data, Role(form.role.data))
        if pending is not None:
            flash(_("The role waits for a second holder of it to confirm."), "info")
        else:
            flash(_("Saved."), "info")
    return redirect(url_for("admin.users"))


@bp.post("/benutzer/<username>/passwort")
def reset_password(username: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    one_time = accounts.reset_password(db(), actor(), username)
    # Shown on this page only, never in a flash message (those travel in the cookie).
    form = UserForm(formdata=None)
    form.org_unit.choices = _unit_choices()
    return _users_page(form, one_time=(username, one_time))


@bp.get("/freigaben")
def grants():
    """Pending role grants, for the holders of those roles to confirm or reject."""
    return render_template(
        "admin/grants.html",
        pending=role_grants.pending_grants(db(), actor()),
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
    )


@bp.post("/freigaben/<uuid:grant_id>/<any(bestaetigen, ablehnen):decision>")
def decide(grant_id, decision: str):
    if ActionForm().validate_on_submit():
        role_grants.decide_grant(db(), actor(), str(grant_id), decision == "bestaetigen")
        flash(_("Saved."), "info")
    return redirect(url_for("admin.grants"))


@bp.post("/benutzer/<username>/<any(sperren, entsperren):change>")
def set_active(username: str, change: str):
    if ActionForm().validate_on_submit():
        accounts.set_user_active(db(), actor(), username, change == "entsperren")
        flash(_("Saved."), "info")
    return redirect(url_for("admin.users"))


@bp.route("/organisation", methods=["GET", "POST"])
def org_units():
    form = OrgUnitForm()
    form.parent.choices = _unit_choices()
    if form.validate_on_submit():
        accounts.add_org_unit(
            db(), actor(), form.code.data, form.name.data, form.parent.data or None
        )
        flash(_("Org unit %(code)s added.", code=form.code.data), "info")
        return redirect(url_for("admin.org_units"))
    return render_template("admin/org_units.html", units=form.parent.choices[1:], form=form)


@bp.route("/schluessel", methods=["GET", "POST"])
def tokens():
    """Admins: tokens of service accounts (a person makes their own, see ``own_tokens``)."""
    form = TokenForm()
    services = [u for u in accounts.list_users(db(), actor()) if u.is_service]
    form.username.choices = [SelectChoice(u.username) for u in services]
    created = None
    if form.validate_on_submit():
        _token, created = api_tokens.create_token(
            db(),
            actor(),
            form.name.data,
            {Scope(s) for s in form.scopes.data},
            service_account=form.username.data,
        )
    return _tokens_page(form, api_tokens.list_tokens(db(), actor()), created)


@bp.route("/meine-schluessel", methods=["GET", "POST"])
def own_tokens():
    """Everyone: tokens acting as themselves."""
    form = TokenForm()
    del form.username
    created = None
    if form.validate_on_submit():
        _token, created = api_tokens.create_token(
            db(), actor(), form.name.data, {Scope(s) for s in form.scopes.data}
        )
    return _tokens_page(form, api_tokens.list_tokens(db(), actor(), own=True), created)


def _tokens_page(form: TokenForm, tokens, created: str | None):
    return render_template(
        "admin/tokens.html",
        tokens=tokens,
        form=form,
        created=created,
        action_form=ActionForm(),
        scope_labels=SCOPE_LABELS,
    )


@bp.post("/schluessel/<uuid:token_id>/widerrufen")
def revoke(token_id):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.own_tokens"))
    token = api_tokens.revoke_token(db(), actor(), str(token_id))
    flash(_("Token revoked."), "info")
    own = token.user_id == actor().id
    return redirect(url_for("admin.own_tokens" if own else "admin.tokens"))
