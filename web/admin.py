"""Administration: users, roles, org units and API tokens (admins only; services check)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from eakte.models import Role
from eakte.models.api import Scope
from eakte.services import accounts, api_tokens
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
}


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10)])
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


class TokenForm(FlaskForm):
    name = StringField(_l("Name (e.g. the portal)"), validators=[DataRequired(), Length(max=200)])
    username = SelectField(_l("Acts as user"), validators=[DataRequired()])
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
        accounts.add_user(
            db(),
            actor(),
            form.username.data,
            form.password.data,
            {Role(r) for r in form.roles.data},
            display_name=form.display_name.data or "",
            org_unit_code=form.org_unit.data or None,
        )
        flash(_("User %(name)s added.", name=form.username.data), "info")
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html",
        users=accounts.list_users(db(), actor()),
        form=form,
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
    )


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
    form = TokenForm()
    form.username.choices = [SelectChoice(u.username) for u in accounts.list_users(db(), actor())]
    created = None
    if form.validate_on_submit():
        _token, created = api_tokens.create_token(
            db(),
            actor(),
            form.name.data,
            form.username.data,
            {Scope(s) for s in form.scopes.data},
        )
    return render_template(
        "admin/tokens.html",
        tokens=api_tokens.list_tokens(db(), actor()),
        form=form,
        created=created,
        action_form=ActionForm(),
        scope_labels=SCOPE_LABELS,
    )


@bp.post("/schluessel/<uuid:token_id>/widerrufen")
def revoke(token_id):
    if ActionForm().validate_on_submit():
        api_tokens.revoke_token(db(), actor(), str(token_id))
        flash(_("Token revoked."), "info")
    return redirect(url_for("admin.tokens"))
