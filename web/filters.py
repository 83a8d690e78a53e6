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


# Audit trail words in German (issue 22): actions, object types, detail names, outcomes. A
# word this table does not know shows as it is.
ACTION_LABELS = {
    "create": _l("created"),
    "view": _l("viewed"),
    "download": _l("downloaded"),
    "change": _l("changed"),
    "file": _l("filed"),
    "refile": _l("refiled"),
    "close": _l("closed"),
    "reopen": _l("reopened"),
    "restrict": _l("restricted"),
    "unrestrict": _l("restriction lifted"),
    "login": _l("signed in"),
    "override_schedule": _l("retention schedule overridden"),
    "fileplan_import": _l("file plan imported"),
    "move": _l("moved"),
    "discard": _l("discarded"),
    "assign": _l("assigned"),
    "unassign": _l("assignment removed"),
    "destroy": _l("destroyed"),
    "export": _l("exported"),
    "second_factor": _l("second factor checked"),
    "second_factor_enrol": _l("second factor set up"),
    "second_factor_reset": _l("second factor reset"),
    "directory_sync": _l("directory synchronised"),
    "directory_roles": _l("roles from the directory"),
}
WORD_LABELS = {
    "case": _l("Case"),
    "process": _l("Process"),
    "document": _l("Document"),
    "fileplannode": _l("File plan node"),
    "user": _l("User"),
    "reason": _l("Reason"),
    "title": _l("Title"),
    "doc_type": _l("Document type"),
    "correspondent": _l("Correspondent"),
    "received_date": _l("Received on"),
    "assignee": _l("Assigned to"),
    "previous": _l("previously"),
    "preview": _l("Preview"),
    "version": _l("Version"),
    "filename": _l("File"),
    "source": _l("Source"),
    "outcome": _l("Outcome"),
    "detail": _l("Detail"),
    "ok": _l("done"),
    "refused": _l("refused"),
}


def action_label(value: str) -> str:
    return str(ACTION_LABELS.get(value, value))


def word_label(value: str) -> str:
    return str(WORD_LABELS.get(value, value))


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
                    pairs.append((word_label(field), f"{_text(change[0])} → {_text(change[1])}"))
        elif value not in (None, "", [], {}):
            pairs.append((word_label(name), _text(value)))
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
