"""The worker's part for a mail file: the message as a PDF/A (headers, body, attachment list)
and its text for search. Runs in the worker's confined child, like every conversion."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from eakte.ingest import mail
from eakte.ingest.reasons import Rejected
from eakte.ingest.render_pdf import Section, write_pdfa
from eakte.ingest.text import page_texts


class RenderFailed(Exception):
    """The message cannot be rendered (it was readable at intake: a limit changed, say)."""


def render_message(original: Path, mime: str, target: Path) -> tuple[list[str], int]:
    """Write the PDF/A of the message in ``original`` to ``target``; its page texts and count."""
    kind = mail.KINDS[mime]
    limits = mail.MailLimits()
    try:
        message = mail.parse(original.read_bytes(), kind, limits)
    except Rejected as exc:
        raise RenderFailed(exc.detail) from None
    write_pdfa(target, message.subject or "(no subject)", sections(message, limits))
    texts = page_texts(target)
    with pikepdf.open(target) as pdf:
        return texts, len(pdf.pages)


def sections(message: mail.Message, limits: mail.MailLimits) -> list[Section]:
    """Headers, the attachment list, notes and the body; labels in German (the rendition is
    read by people at a German town hall; the header names are the mail's own)."""
    rows = [(label, value) for label, value in message.header_rows()]
    listed = [
        (
            f"{attachment.index}.",
            f"{attachment.filename} ({attachment.mime}, {_size(len(attachment.data))})"
            + (" – Signatur, im Original enthalten" if attachment.signature else ""),
        )
        for attachment in message.attachments
    ]
    body = message.body
    if len(body) > limits.max_body_chars:
        body = body[: limits.max_body_chars] + "\n[… gekürzt; das Original ist vollständig]"
    notes = [_NOTES.get(note, note) for note in message.notes]
    if message.body_from_html:
        notes.append(
            "Der Text stammt aus dem HTML-Teil der Nachricht: ohne Skripte, Formatierung "
            "und externe Inhalte (nichts wurde nachgeladen)."
        )
    result = [Section("E-Mail" if message.kind == "eml" else "E-Mail (Outlook)", rows=rows)]
    if listed:
        result.append(Section("Anhänge", rows=listed))
    if notes:
        result.append(Section("Hinweise", paragraphs=notes))
    result.append(Section("Nachricht", paragraphs=[body or "(kein Text)"]))
    return result


_NOTES = {
    "the body is stored only as rich text (RTF); it is kept in the original": (
        "Der Text liegt nur als Rich Text (RTF) vor und ist im Original enthalten."
    )
}


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
