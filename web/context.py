"""What every view needs: the signed-in user as the services' actor, and object lookup."""

from __future__ import annotations

from flask_login import current_user

from eakte.models import User


def actor() -> User:
    """The signed-in user (loaded in this request's session by the user loader)."""
    return current_user._get_current_object()
