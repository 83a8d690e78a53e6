"""Protected PDFs, filled-in forms and XFA forms, made by the tests themselves (pikepdf)."""

from __future__ import annotations

import io

import pikepdf

from tests.ingest.conftest import born_digital_pdf

PLEASE_WAIT = (
    "Please wait... If this message is not eventually replaced by the proper contents of the "
    "document, your PDF viewer may not be able to display this type of document."
)


def _save(pdf: pikepdf.Pdf, **kw) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **kw)
    return out.getvalue()


def protected_pdf(data: bytes | None = None, user: str = "") -> bytes:
    """Encrypted with an owner password; ``user`` empty: opens without a password, only
    printing, copying and changing are restricted."""
    with pikepdf.open(io.BytesIO(data or born_digital_pdf(2, "Widerspruch Grundsteuer"))) as pdf:
        return _save(
            pdf,
            encryption=pikepdf.Encryption(
                owner="geheim-Eigentümer",
                user=user,
                allow=pikepdf.Permissions(
                    print_lowres=False,
                    print_highres=False,
                    extract=False,
                    modify_other=False,
                    modify_annotation=False,
                ),
            ),
        )


def form_pdf(values: dict[str, str], need_appearances: bool = True) -> bytes:
    """A one-page application with filled-in text fields (no appearance streams: readers
    draw them, as many form tools leave it)."""
    with pikepdf.open(io.BytesIO(born_digital_pdf(1, "Antrag auf Sondernutzung"))) as pdf:
        page = pdf.pages[0]
        font = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type1,
                BaseFont=pikepdf.Name.Helvetica,
                Encoding=pikepdf.Name.WinAnsiEncoding,
            )
        )
        fields = pikepdf.Array()
        for number, (name, value) in enumerate(values.items()):
            y = 700 - 40 * number
            field = pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Widget,
                    FT=pikepdf.Name.Tx,
                    T=pikepdf.String(f"feld{number}"),
                    TU=pikepdf.String(name),
                    V=pikepdf.String(value),
                    DA=pikepdf.String("/Helv 10 Tf 0 g"),
                    Rect=pikepdf.Array([72, y, 400, y + 20]),
                    F=4,
                    P=page.obj,
                )
            )
            fields.append(field)
            if "/Annots" not in page.obj:
                page.obj.Annots = pdf.make_indirect(pikepdf.Array())
            page.obj.Annots.append(field)
        pdf.Root.AcroForm = pdf.make_indirect(
            pikepdf.Dictionary(
                Fields=fields,
                NeedAppearances=need_appearances,
                DA=pikepdf.String("/Helv 10 Tf 0 g"),
                DR=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=font)),
            )
        )
        return _save(pdf)


def xfa_only_pdf(data_xml: bytes) -> bytes:
    """A dynamic XFA form: one placeholder page, no AcroForm fields, the form in XFA."""
    with pikepdf.open(io.BytesIO(born_digital_pdf(1, PLEASE_WAIT))) as pdf:
        datasets = pdf.make_stream(data_xml)
        template = pdf.make_stream(
            b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"/>'
        )
        pdf.Root.AcroForm = pdf.make_indirect(
            pikepdf.Dictionary(
                Fields=pikepdf.Array(),
                XFA=pikepdf.Array(
                    [pikepdf.String("template"), template, pikepdf.String("datasets"), datasets]
                ),
            )
        )
        pdf.Root.NeedsRendering = True
        return _save(pdf)
