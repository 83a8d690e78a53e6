"""Health and metrics endpoints for operators (issue 8)."""

from flask import Blueprint

bp = Blueprint("health", __name__)
