"""The second step of signing in (a TOTP code, or enrolling one), and the code asked for again
before a decision (a disposal approval). The logic is in ``eakte.services.totp``.

Between the password and the code nobody is signed in: Flask's signed cookie holds only whom
the password proved, for ``PENDING_FOR``; the session row starts after the code.
"""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from eakte.directory.signin import Context
from eakte.errors import (
    SecondFactorNotEnrolled,
    SecondFactorRequired,
    TooManyAttempts,
    WrongSecondFactor,
)
from eakte.models import User
from eakte.services import sessions, totp
from web.db import db, runtime
from web.security import SESSION_KEY, client_address

bp = Blueprint("second_factor", __name__)

PENDING = "pending_second_factor"
PENDING_FOR = 300  # seconds between the password and the code
CODE_ERRORS = (SecondFactorRequired, WrongSecondFactor, SecondFactorNotEnrolled, TooManyAttempts)


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(), Length(max=40)]
    )


def directory_context() -> Context:
    settings = runtime().settings
    return Context(settings.ldap, settings.resolved_secret_key())


def policy() -> str:
    return str(runtime().settings.second_factor)


def needed(user: User) -> bool:
    return totp.needed(db(), user, policy())


def begin(user: User, next_url: str | None):
    """The password was right and a code is needed: remember whom, ask for the code."""
    session.clear()
    session[PENDING] = {"user": str(user.uuid), "at": time.time(), "next": next_url or ""}
    return redirect(url_for("second_factor.challenge"))


def finish(user: User, next_url: str | None):
    """Start the server-side session (the same for one and two steps)."""
    from web.auth import safe_next  # the sign-in view owns where a sign-in may lead

    session.clear()  # nothing from before the sign-in carries over
    session[SESSION_KEY] = sessions.start(db(), user, client_address())
    login_user(user)
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return redirect(safe_next(next_url))


def confirm(user: User, code: str | None, purpose: str) -> None:
    """Before a decision: the code again, if the user has (or must have) a second factor."""
    if not needed(user):
        return
    if not totp.enrolled(db(), user):
        raise SecondFactorNotEnrolled(f"{purpose}: {user.username!r} must enrol first")
    totp.verify(
        db(),
        user,
        code,
        runtime().settings.resolved_secret_key(),
        purpose=purpose,
        client_address=client_address(),
    )


def _pending_user() -> tuple[User | None, str]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_FOR:
        return None, ""
    user = db().scalar(select(User).where(User.uuid == _uuid(pending.get("user"))))
    if user is None or not user.active or user.is_service:
        return None, ""
    return user, str(pending.get("next") or "")


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@bp.route("/anmeldung/zweiter-faktor", methods=["GET", "POST"])
def challenge():
    user, next_url = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    key = runtime().settings.resolved_secret_key()
    enrolling = not totp.enrolled(db(), user)
    status = 200
    if form.validate_on_submit():
        try:
            if enrolling:
                codes = totp.confirm_enrolment(db(), user, form.code.data, key, client_address())
            else:
                totp.verify(
                    db(), user, form.code.data, key, purpose="login",
                    client_address=client_address(),
                )  # fmt: skip
                codes = []
        except CODE_ERRORS as exc:
            flash(_(exc.user_message), "error")
            status = exc.http_status
            if enrolling and isinstance(exc, SecondFactorNotEnrolled):
                return redirect(url_for("second_factor.challenge"))
        else:
            response = finish(user, next_url)
            if codes:  # shown once, on the way in
                return render_template(
                    "second_factor/recovery.html", codes=codes, next=response.location
                )
            return response
    if enrolling:
        if request.method == "POST" and status != 200:
            # the same secret stays while the person types its code; nothing shown again
            return render_template("second_factor/enrol.html", form=form, qr=None), status
        secret, uri = totp.start_enrolment(db(), user, key)
        return render_template(
            "second_factor/enrol.html", form=form, qr=totp.qr_svg(uri), secret=secret
        ), status
    return render_template("second_factor/challenge.html", form=form), status
