"""Template filters."""

from __future__ import annotations

import json


def audit_details(raw: str) -> list[tuple[str, str]]:
    """An audit entry's details as (name, text) pairs; changes read "old → new" (R23)."""
    try:
        details = json.loads(raw or "{}")
    except ValueError:
        return [("details", raw)]
    pairs: list[tuple[str, str]] = []
    for name, value in sorted(details.items()):
        if name == "changes" and isinstance(value, dict):
            for field, change in sorted(value.items()):
                if isinstance(change, list) and len(change) == 2:
                    pairs.append((field, f"{_text(change[0])} → {_text(change[1])}"))
        elif value not in (None, "", [], {}):
            pairs.append((name, _text(value)))
    return pairs


def _text(value) -> str:
    if value in (None, ""):
        return "–"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def dict_with(query: dict, key: str, value: str) -> dict:
    return {**query, key: value}


def dict_without(query: dict, key: str) -> dict:
    return {k: v for k, v in query.items() if k != key}
