"""The one CSV writer of every export (file plan, disposal list; web and command line).

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (a tab or a
carriage return can hide such a start), so a case title ``=HYPERLINK(...)`` would act in the
records officer's spreadsheet. Such cells are written with a leading ``'`` (the OWASP rule);
``restore`` takes it off again where an export is imported back.
"""

from __future__ import annotations

import csv
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """A cell as it was before ``neutralise``."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


class _SafeWriter:
    def __init__(self, out: TextIO):
        self._writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def writerow(self, row) -> None:
        self._writer.writerow([neutralise(value) for value in row])


def csv_writer(out: TextIO) -> _SafeWriter:
    """A writer of ``;``-separated rows (as German spreadsheets expect) with safe cells."""
    return _SafeWriter(out)
