"""The UI speaks German: every message id the code can show has a German translation, and the
compiled catalog is up to date with its source."""

import inspect
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import eakte.errors
import storage.errors
import web

CATALOG = Path(web.__file__).parent / "translations" / "de" / "LC_MESSAGES" / "messages"


def _catalogs():
    with CATALOG.with_suffix(".po").open("rb") as po, CATALOG.with_suffix(".mo").open("rb") as mo:
        return read_po(po), read_mo(mo)


def test_every_error_message_is_translated():
    po, _ = _catalogs()
    for module in (eakte.errors, storage.errors):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            message = getattr(cls, "user_message", None)
            if message:
                entry = po.get(message)
                assert entry is not None and entry.string, f"{cls.__name__}: {message!r}"


def test_compiled_catalog_matches_source():
    po, mo = _catalogs()
    source = {m.id: m.string for m in po if m.id}
    compiled = {m.id: m.string for m in mo if m.id}
    assert compiled == source, "run scripts/i18n.sh to compile the catalog"


def test_no_untranslated_entries():
    po, _ = _catalogs()
    missing = [m.id for m in po if m.id and not m.string]
    assert missing == []
