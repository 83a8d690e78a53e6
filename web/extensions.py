"""Flask extensions, created unbound and attached in ``create_app`` via ``init_app``."""

from __future__ import annotations

from flask_babel import Babel, lazy_gettext
from flask_login import LoginManager
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = lazy_gettext("Please sign in.")
login_manager.login_message_category = "info"
