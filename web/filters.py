"""Template filters."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l

# What intake and processing noted about a document (``Document.flags``), in words.
FLAG_LABELS = {
    "javascript": _l("contains JavaScript (never run)"),
    "embedded_files": _l("contains embedded files"),
    "launch_action": _l("contains a launch action (never run)"),
    "macros": _l("contains macros (never run)"),
    "repaired": _l("damaged PDF, repaired"),
    "name_mismatch": _l("the file name does not match the content"),
    "protected": _l("protected PDF (the archival copy has no restrictions)"),
    "signed": _l("signed"),
    "xfa": _l("XFA form"),
    "xfa_dynamic": _l("dynamic XFA form (only its data is readable)"),
    "einvoice": _l("e-invoice"),
    "einvoice_incomplete": _l("e-invoice without all mandatory fields"),
}


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


def flag_labels(flags: str) -> list[str]:
    """A document's flags in words; one this table does not know shows as it is."""
    return [str(FLAG_LABELS.get(flag, flag)) for flag in flags.split(",") if flag]
