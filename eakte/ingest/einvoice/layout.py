"""The readable PDF/A rendition of an e-invoice: its sections, in German."""

from __future__ import annotations

from pathlib import Path

from eakte.ingest.einvoice.german import (
    PAYMENT_MEANS,
    TAX_CATEGORIES,
    TYPE_CODES,
    UNITS,
    coded,
    german_date,
    german_number,
    money,
)
from eakte.ingest.einvoice.model import Invoice, Party
from eakte.ingest.render_pdf import Section, write_pdfa


def sections(invoice: Invoice, problems: list[str] | None = None) -> list[Section]:
    """The invoice as a German, readable page: what the PDF/A rendition shows."""
    cur = invoice.currency
    out = [
        Section(
            "Rechnungsangaben",
            _rows(
                ("Art", coded(TYPE_CODES, invoice.type_code) or invoice.kind_label),
                ("Rechnungsnummer", invoice.number),
                ("Rechnungsdatum", german_date(invoice.issue_date)),
                ("Fällig am", german_date(invoice.due_date)),
                ("Leitweg-ID (Käuferreferenz)", invoice.buyer_reference),
                ("Bestellnummer", invoice.order_reference),
                ("Leistungszeitraum", invoice.period),
                ("Währung", cur),
                ("Format", invoice.format_label()),
                ("Spezifikation", invoice.specification),
            ),
        ),
        Section("Verkäufer", _party_rows(invoice.seller)),
        Section("Käufer", _party_rows(invoice.buyer)),
    ]
    line_rows = []
    for number, line in enumerate(invoice.lines, 1):
        label = f"Pos. {line.id or number}"
        quantity = " ".join(filter(None, [german_number(line.quantity), _unit(line.unit)]))
        price = money(line.price, cur)
        detail = [line.name or "(ohne Bezeichnung)"]
        if line.description and line.description != line.name:
            detail.append(line.description)
        figures = "Menge: " + (quantity or "–")
        if price:
            figures += f" × Einzelpreis {price}"
        figures += f" = {money(line.amount, cur) or '–'}"
        if line.vat_percent:
            figures += f" (USt {german_number(line.vat_percent)} %)"
        detail.append(figures)
        line_rows.append((label, "\n".join(detail)))
    out.append(Section("Positionen", line_rows or [("–", "keine Positionen angegeben")]))
    tax_rows = [
        (
            " ".join(
                filter(
                    None,
                    [
                        f"{german_number(t.percent)} %" if t.percent else "",
                        f"– {coded(TAX_CATEGORIES, t.category)}" if t.category else "",
                    ],
                )
            )
            or "USt",
            f"Bemessungsgrundlage {money(t.basis, cur) or '–'}, "
            f"Steuer {money(t.amount, cur) or '–'}",
        )
        for t in invoice.taxes
    ]
    if tax_rows:
        out.append(Section("Umsatzsteuer", tax_rows))
    out.append(
        Section(
            "Summen",
            _rows(
                ("Summe der Positionen (netto)", money(invoice.line_total, cur)),
                ("Gesamtbetrag ohne USt", money(invoice.tax_exclusive, cur)),
                ("Umsatzsteuer", money(invoice.tax_total, cur)),
                ("Gesamtbetrag mit USt", money(invoice.tax_inclusive, cur)),
                ("Bereits gezahlt", money(invoice.prepaid, cur)),
                ("Zahlbetrag", money(invoice.payable, cur)),
            ),
        )
    )
    payment = _rows(
        ("Zahlungsart", coded(PAYMENT_MEANS, invoice.means_code)),
        ("IBAN", _spaced_iban(invoice.iban)),
        ("BIC", invoice.bic),
        ("Kontoinhaber", invoice.account_name),
        ("Verwendungszweck", invoice.payment_reference),
        ("Zahlungsbedingungen", invoice.terms),
    )
    if payment:
        out.append(Section("Zahlung", payment))
    if invoice.notes:
        out.append(Section("Bemerkungen", paragraphs=invoice.notes))
    if invoice.attachments:
        out.append(Section("Anlagen (in der XML-Datei enthalten)", paragraphs=invoice.attachments))
    notes = [
        "Diese Ansicht hat eAkte aus der elektronischen Rechnung erzeugt. Maßgeblich ist die "
        "XML-Datei, die unverändert als Original aufbewahrt wird."
    ]
    if problems:
        notes.insert(0, "Es fehlen Pflichtangaben: " + "; ".join(problems))
    out.append(Section("Hinweise", paragraphs=notes))
    return out


def _rows(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [(label, value) for label, value in pairs if value]


def _party_rows(party: Party) -> list[tuple[str, str]]:
    return _rows(
        ("Name", party.name),
        ("Anschrift", "\n".join(party.address)),
        ("USt-IdNr.", party.vat_id),
        ("Kontakt", party.contact),
        ("E-Mail", party.email),
    ) or [("Name", "(nicht angegeben)")]


def _unit(code: str) -> str:
    return UNITS.get(code, code)


def _spaced_iban(iban: str) -> str:
    compact = "".join(iban.split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def render(invoice: Invoice, target: Path) -> None:
    """The PDF/A rendition of an invoice."""
    title = f"{invoice.kind_label} {invoice.number}".strip()
    if invoice.seller.name:
        title += f" – {invoice.seller.name}"
    write_pdfa(target, title, sections(invoice, invoice.missing(german=True)))
