"""Sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from eakte.errors import TooManyAttempts
from eakte.models import Tenant
from eakte.services.accounts import DEFAULT_TENANT, authenticate
from web.db import db

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    tenant = SelectField(_l("Municipality"), default=DEFAULT_TENANT)
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    tenants = db().execute(select(Tenant.slug, Tenant.name).order_by(Tenant.name)).all()
    form.tenant.choices = [SelectChoice(slug, name) for slug, name in tenants] or [
        SelectChoice(DEFAULT_TENANT, "")
    ]
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(db(), form.tenant.data, form.username.data, form.password.data)
        except TooManyAttempts as exc:
            flash(_(exc.user_message), "error")
            user, status = None, exc.http_status
        else:
            if user is not None:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            flash(_("User name or password is wrong."), "error")
    show_tenant = db().scalar(select(func.count(Tenant.id))) > 1
    return render_template("login.html", form=form, show_tenant=show_tenant), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    # Only local paths: an absolute or scheme-relative URL would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")
