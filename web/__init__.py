"""The Flask application factory. Views are thin: they call services and render."""

from __future__ import annotations

from flask import Flask

from eakte.runtime import Runtime
from web import (
    admin,
    api,
    auth,
    body_limits,
    cases,
    coversheets,
    desk,
    directory_admin,
    disposal,
    documents,
    errors,
    fileplan,
    health,
    home,
    inbox,
    mail_accounts,
    migration,
    records,
    requestid,
    scanning,
    search,
    second_factor,
    security,
    suggest,
    upload,
    xdomea,
)
from web.extensions import babel, csrf, login_manager
from web.filters import (
    action_label,
    audit_details,
    dict_with,
    dict_without,
    flag_labels,
    word_label,
)


def create_app(runtime: Runtime, test_config: dict | None = None) -> Flask:
    settings = runtime.settings
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=settings.resolved_secret_key(),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        BABEL_DEFAULT_LOCALE="de",
        BABEL_DEFAULT_TIMEZONE="Europe/Berlin",
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead of a clock
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["eakte.runtime"] = runtime
    requestid.init_app(app)  # first: every later hook's log lines carry the request id

    babel.init_app(app, locale_selector=lambda: "de")
    csrf.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    body_limits.init_app(app)
    errors.init_app(app)

    app.jinja_env.filters.update(
        audit_details=audit_details,
        dict_with=dict_with,
        dict_without=dict_without,
        flag_labels=flag_labels,
        action_label=action_label,
        word_label=word_label,
    )
    areas = (
        auth,
        second_factor,
        home,
        desk,
        inbox,
        search,
        fileplan,
        cases,
        coversheets,
        documents,
        upload,
        scanning,
        suggest,
        migration,
        mail_accounts,
        records,
        disposal,
        xdomea,
        admin,
        directory_admin,
        api,
        health,
    )
    for area in areas:
        app.register_blueprint(area.bp)
    return app
