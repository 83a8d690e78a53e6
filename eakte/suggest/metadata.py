"""Metadata suggested from a document's text at intake (issue 18): title, letter date, sender,
document type. Rules over the layout of German business letters (DIN 5008 and what people
actually send), applied to the text as read or recognised; no file names.

- title: the subject line ("Betreff: ...", or the line just above the salutation), else the
  first heading;
- letter date: "Musterstadt, den 14. Januar 2026", "Datum: 14.01.2026", a date alone on a line
  in the head of the letter, in the forms 14. Januar 2026, 14.01.2026, 14.1.26, 2026-01-14; a
  date "vom" (the date of the letter answered) or in the body (a deadline) is not the letter's;
- sender: the return address line above the address window, else the letterhead's first line;
- document type: a small rule set (``TYPE_RULES``); the filing classifier adds what it learned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "januar": 1,
    "jänner": 1,
    "jan": 1,
    "februar": 2,
    "feb": 2,
    "märz": 3,
    "maerz": 3,
    "mär": 3,
    "mrz": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE = re.compile(
    rf"(?<![\d.])(?:(?P<d1>\d{{1,2}})\.\s?(?P<mon>{_MONTH})\.?\s+(?P<y1>\d{{4}})"
    r"|(?P<d2>\d{1,2})\.\s?(?P<m2>\d{1,2})\.\s?(?P<y2>\d{4}|\d{2})(?![\d])"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))",
    re.IGNORECASE,
)
SALUTATION = re.compile(
    r"^\s*(sehr geehrte|guten tag|hallo|liebe[rs]?\b|meine damen und herren|werte[rs]?\b)",
    re.IGNORECASE,
)
# "Betreff" as OCR may read it ("Betrcff", "Bctreff")
SUBJECT = re.compile(
    r"^\s*(b[ec]tr[ec]ff|betr\.|betrifft|gegenstand|subject)\s*:?\s*(?P<rest>.+)$", re.I
)
MAIL_FROM = re.compile(r"^\s*(von|from|absender)\s*:\s*(?P<who>[^<]+)", re.IGNORECASE)
MAIL_HEADER = re.compile(r"^\s*(von|from|an|to|cc|gesendet|sent|datum|date)\s*:", re.IGNORECASE)
DATE_LABEL = re.compile(r"(datum|den)\s*:?\s*$", re.IGNORECASE)
ANSWERED = re.compile(r"(vom|von|seit|bis|zum|ab|am|bis zum|frist)\s*$", re.IGNORECASE)
REFERENCE_LINE = re.compile(
    r"^\s*(ihr zeichen|ihre zeichen|ihr schreiben|ihre nachricht|unser zeichen|unsere zeichen|"
    r"aktenzeichen|az\.|kassenzeichen|kundennummer|rechnungsnummer|telefon|tel\.|fax|e-mail|"
    r"durchwahl|sachbearbeit|zimmer|auskunft|datum|mein zeichen|bearbeiter)",
    re.IGNORECASE,
)
REFERENCE_ANYWHERE = re.compile(
    r"(ihr zeichen|ihre nachricht|unser zeichen|ihr schreiben)\s*(vom)?\s*:", re.IGNORECASE
)
POSTCODE_LINE = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ][\wäöüß.-]+")
RETURN_SEPARATORS = re.compile(r"\s*(?:·|•|\||–|—| - |, )\s*")
NOT_A_SENDER = re.compile(
    r"^\s*(an\b|an die|an den|herrn?\b|frau\b|firma\b|z\.\s?hd|postfach|per e-mail|einschreiben)",
    re.IGNORECASE,
)
STREET = re.compile(r"(straße|str\.|weg|platz|allee|gasse|ring|damm|ufer)\s*\d", re.IGNORECASE)
HEAD_LINES = 30  # the head of a letter: letterhead, addresses, info block, date, subject

# Document types by the words that give them away; the first rule that matches wins.
TYPE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rule, re.IGNORECASE))
    for name, rule in [
        ("Mahnung", r"\b(mahnung|zahlungserinnerung|mahngebühr)"),
        ("Rechnung", r"\b(rechnungsnummer|rechnung nr|rechnungsbetrag|zu zahlen)"),
        ("Widerspruch", r"\b(lege[n]? (ich|wir)? ?.{0,40}widerspruch|widerspruch gegen)"),
        ("Bescheid", r"\b(bescheid\b|rechtsbehelfsbelehrung|wird hiermit festgesetzt)"),
        ("Antrag", r"\b(beantrage[n]?|antrag auf|stelle[n]? (ich|wir) (hiermit )?den antrag)"),
        ("Kündigung", r"\b(kündige[n]?|kündigung)\b"),
        ("Beschwerde", r"\b(beschwerde|beschweren)"),
        ("Einladung", r"\b(einladung|laden (wir )?sie .{0,30}ein)"),
        ("Anfrage", r"\b(anfrage|bitten um auskunft|frage an)"),
        ("Vertrag", r"\b(vertrag|vereinbarung zwischen)"),
    ]
]


@dataclass(frozen=True)
class Suggested:
    title: str = ""
    letter_date: date | None = None
    sender: str = ""
    doc_type: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "title": self.title,
            "letter_date": self.letter_date.isoformat() if self.letter_date else "",
            "sender": self.sender,
            "doc_type": self.doc_type,
        }


def _lines(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]


def _salutation_at(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[: HEAD_LINES + 10]):
        if SALUTATION.match(line):
            return i
    return None


def parse_date(match: re.Match[str]) -> date | None:
    try:
        if match.group("mon"):
            day, month = int(match.group("d1")), MONTHS[match.group("mon").lower().rstrip(".")]
            year = int(match.group("y1"))
        elif match.group("m2"):
            day, month = int(match.group("d2")), int(match.group("m2"))
            year = int(match.group("y2"))
            if year < 100:
                year += 2000 if year < 70 else 1900
        else:
            day, month = int(match.group("d3")), int(match.group("m3"))
            year = int(match.group("y3"))
        return date(year, month, day)
    except (ValueError, KeyError):
        return None


def letter_date(text: str) -> date | None:
    lines = _lines(text)
    end = _salutation_at(lines)
    head = lines[: end if end is not None else HEAD_LINES]
    candidates: list[tuple[int, int, date]] = []  # (rank, position, date); lower rank first
    for i, line in enumerate(head):
        for found in DATE.finditer(line):
            value = parse_date(found)
            if value is None:
                continue
            before = line[: found.start()]
            if ANSWERED.search(before):
                continue  # "Ihr Schreiben vom 2. Januar": not this letter's date
            if DATE_LABEL.search(before) or re.search(r",\s*(den\s*)?$", before):
                rank = 0  # "Datum: ...", "Musterstadt, den ..."
            elif not before.strip() and found.end() >= len(line.rstrip(". ")) - 1:
                rank = 1  # the date alone on its line
            elif REFERENCE_LINE.match(line):
                rank = 3
            else:
                rank = 2
            candidates.append((rank, i, value))
    if not candidates:
        return None
    return min(candidates)[2]


def title(text: str) -> str:
    lines = _lines(text)
    end = _salutation_at(lines)
    head = lines[: end if end is not None else HEAD_LINES]
    for i, line in enumerate(head):
        found = SUBJECT.match(line)
        if found:
            rest = found.group("rest").strip()
            # a subject continued on the next line (before a blank line)
            if i + 1 < len(head) and head[i + 1] and not REFERENCE_LINE.match(head[i + 1]):
                following = head[i + 1]
                if not SALUTATION.match(following) and len(rest) + len(following) < 200:
                    rest = f"{rest} {following}"
            return _clean_title(rest)
    if end is not None:
        for line in reversed(lines[:end]):
            if _title_like(line):
                return _clean_title(line)
    letterhead = sender(text)
    for line in head:
        if _title_like(line) and len(line.split()) >= 3 and line != letterhead:
            return _clean_title(line)
    return ""


def _title_like(line: str) -> bool:
    if not line or len(line) < 4 or len(line) > 200:
        return False
    short = len(line.split()) <= 5  # address lines are short; subjects may name a street
    if REFERENCE_LINE.match(line) or REFERENCE_ANYWHERE.search(line) or MAIL_HEADER.match(line):
        return False
    if short and (POSTCODE_LINE.search(line) or STREET.search(line)):
        return False
    if DATE.search(line) and len(DATE.sub("", line).strip(" ,.")) < 20:
        return False  # "Musterstadt, 14.01.2026"
    letters = sum(c.isalpha() for c in line)
    return letters >= 0.6 * len(line.replace(" ", ""))


def _clean_title(line: str) -> str:
    return line.strip(" :-–")[:200]


def sender(text: str) -> str:
    lines = _lines(text)
    head = [line for line in lines[:HEAD_LINES] if line]
    for line in head[:6]:
        found = MAIL_FROM.match(line)
        if found:  # a printed e-mail: "Von: Anna Weber <a.weber@example.org>"
            return found.group("who").strip(" \"'")[:300]
    for line in head:
        parts = [p for p in RETURN_SEPARATORS.split(line) if p]
        if len(parts) >= 3 and any(POSTCODE_LINE.search(p) for p in parts):
            return parts[0].strip()  # "Stadtwerke Musterhausen · Hauptstr. 1 · 12345 Ort"
    for line in head[:4]:
        if NOT_A_SENDER.match(line) or DATE.search(line) or REFERENCE_LINE.match(line):
            continue
        if POSTCODE_LINE.search(line) or STREET.search(line) or SUBJECT.match(line):
            continue
        if sum(c.isalpha() for c in line) >= 3:
            return line[:300]
    return ""


def doc_type(text: str) -> str:
    for name, rule in TYPE_RULES:
        if rule.search(text[:5000]):
            return name
    return ""


def suggest(text: str) -> Suggested:
    return Suggested(title(text), letter_date(text), sender(text), doc_type(text))
