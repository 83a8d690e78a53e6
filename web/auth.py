"""Sign-in, sign-out and setting one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from eakte.directory import signin
from eakte.errors import (
    DirectoryUnavailable,
    NotInDirectoryGroup,
    TooManyAttempts,
    WeakPassword,
    WrongPassword,
)
from eakte.models import Tenant
from eakte.services import accounts, sessions
from eakte.services.accounts import DEFAULT_TENANT, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from web.context import actor
from web.db import db
from web.second_factor import begin, directory_context, finish, needed
from web.security import SESSION_KEY, client_address

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    tenant = SelectField(_l("Municipality"), default=DEFAULT_TENANT)
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    # not asked after an admin's one-time password (the sign-in used it up)
    current = PasswordField(_l("Current password"), validators=[Optional(), Length(max=200)])
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
    )
    repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))],
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    tenants = db().execute(select(Tenant.slug, Tenant.name).order_by(Tenant.name)).all()
    form.tenant.choices = [SelectChoice(slug, name) for slug, name in tenants] or [
        SelectChoice(DEFAULT_TENANT, "")
    ]
    status = 200
    if form.validate_on_submit():
        address = client_address()
        try:
            # the tenant's directory, or the local accounts (issue 19: eakte.directory)
            user = signin.authenticate(
                db(),
                directory_context(),
                form.tenant.data,
                form.username.data,
                form.password.data,
                address,
            )
        except (TooManyAttempts, DirectoryUnavailable, NotInDirectoryGroup) as exc:
            flash(_(exc.user_message), "error")
            user, status = None, exc.http_status
        else:
            if user is not None:
                if needed(user):  # the second factor first (web/second_factor.py)
                    return begin(user, request.args.get("next"))
                return finish(user, request.args.get("next"))
            flash(_("User name or password is wrong."), "error")
    show_tenant = db().scalar(select(func.count(Tenant.id))) > 1
    return render_template("login.html", form=form, show_tenant=show_tenant), status


@bp.post("/logout")
def logout():
    sessions.end(db(), session.get(SESSION_KEY))
    logout_user()
    session.clear()
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/passwort", methods=["GET", "POST"])
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db(), actor(), form.current.data, form.new.data, session.get(SESSION_KEY)
            )
        except (WeakPassword, WrongPassword) as exc:
            flash(_(exc.user_message), "error")
        else:
            flash(_("Your password has been changed; your other sessions have ended."), "info")
            return redirect(url_for("home.index"))
    return render_template("password.html", form=form, forced=actor().must_change_password)


def safe_next(target: str | None) -> str:
    # Only a local path: browsers drop tabs and line breaks and read "\" as "/", so
    # "/\t/host" or "/\\host" would leave the site.
    if target and target.startswith("/") and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not target.startswith("//"):
            return target
    return url_for("home.index")
