"""Values of an e-invoice read and written the German way: dates (UBL and CII formats),
amounts, numbers and money, and the code tables (invoice types, units, payment means, tax
categories) named in German."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation


def parse_date(text: str) -> date | None:
    """UBL dates (2026-01-31) and CII format 102 (20260131)."""
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def german_date(text: str) -> str:
    parsed = parse_date(text) if text else None
    return parsed.strftime("%d.%m.%Y") if parsed else text


def amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


def german_number(text: str, places: int | None = None) -> str:
    """1234.5 → 1.234,50 (``places``: at least this many decimals); text that is not a
    number stays as written."""
    value = amount(text) if text else None
    if value is None:
        return text
    exponent = value.as_tuple().exponent  # an int: amount() returns finite numbers only
    shown = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    decimals = max(places or 0, shown)
    formatted = f"{value:,.{decimals}f}"
    return formatted.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def money(text: str, currency: str) -> str:
    return f"{german_number(text, 2)} {currency}".strip() if text else ""


TYPE_CODES = {
    "326": "Teilrechnung",
    "380": "Rechnung",
    "381": "Gutschrift (Rechnungskorrektur)",
    "384": "Korrigierte Rechnung",
    "389": "Selbst ausgestellte Rechnung",
    "875": "Teilschlussrechnung (Bau)",
    "876": "Abschlagsrechnung (Bau)",
    "877": "Schlussrechnung (Bau)",
}
UNITS = {
    "C62": "Stück",
    "H87": "Stück",
    "EA": "Stück",
    "XPP": "Stück",
    "HUR": "Std.",
    "MIN": "Min.",
    "DAY": "Tage",
    "WEE": "Wochen",
    "MON": "Monate",
    "ANN": "Jahre",
    "KGM": "kg",
    "TNE": "t",
    "MTR": "m",
    "MTK": "m²",
    "MTQ": "m³",
    "LTR": "l",
    "KWH": "kWh",
    "LS": "pauschal",
    "SET": "Satz",
    "P1": "%",
}
PAYMENT_MEANS = {
    "1": "nicht angegeben",
    "10": "Barzahlung",
    "30": "Überweisung",
    "31": "Überweisung",
    "42": "Zahlung auf Bankkonto",
    "48": "Kartenzahlung",
    "49": "Lastschrift",
    "57": "Dauerauftrag",
    "58": "SEPA-Überweisung",
    "59": "SEPA-Lastschrift",
    "97": "Verrechnung",
}
TAX_CATEGORIES = {
    "S": "Normalsatz",
    "Z": "Nullsatz",
    "E": "steuerbefreit",
    "AE": "Steuerschuldnerschaft des Leistungsempfängers",
    "K": "innergemeinschaftliche Lieferung",
    "G": "Ausfuhr",
    "O": "nicht steuerbar",
    "L": "IGIC",
    "M": "IPSI",
}


def coded(table: dict[str, str], code: str) -> str:
    return f"{table[code]} ({code})" if code in table else code


def period(start: str, end: str) -> str:
    """A billing period (BG-14), readable."""
    if not (start or end):
        return ""
    return f"{german_date(start) or '…'} – {german_date(end) or '…'}"
