"""Office documents and text (issue 25, part 2): every kind taken in, the original kept
byte-exact, a PDF/A-2b rendition made by LibreOffice, the text searchable; macros flagged;
zip bombs quarantined; a conversion that hangs or outgrows its memory stopped, and the next
document goes through.

The corpus is made by LibreOffice itself from flat ODF and CSV written here (once per module).
"""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import select

from eakte.ingest import office, office_types
from eakte.ingest.confine import JobLimits
from eakte.ingest.reasons import Reason
from eakte.models import FileVersion
from eakte.services.intake import Outcome
from tests.ingest.conftest import GERMAN, image_bytes, png_chunk, png_header, scan_image

WORD = "Quastenflosser"
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.3"'
)
LETTER_FODT = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {NS} office:mimetype="application/vnd.oasis.opendocument.text">
<office:body><office:text>
<text:p>Stadtverwaltung Usingen, Bauamt</text:p>
<text:p>Sehr geehrte Damen und Herren, Ihr Antrag {WORD}textdatei ist eingegangen.</text:p>
<text:p>Mit freundlichen Grüßen</text:p>
</office:text></office:body></office:document>
"""
SLIDES_FODP = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {NS} office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:master-styles><style:master-page style:name="Default"/></office:master-styles>
<office:body><office:presentation><draw:page draw:name="Folie1" draw:master-page-name="Default">
<draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="5cm"><draw:text-box>
<text:p>Bauausschuss {WORD}folie</text:p></draw:text-box></draw:frame>
</draw:page></office:presentation></office:body></office:document>
"""
TABLE_CSV = f"Posten;Betrag\n{WORD}tabelle;12,50\nMüller;3\n".encode()

# kind → (file name, made from which source by LibreOffice, the word to find)
MADE = {
    "docx": ("antrag.docx", "letter.fodt", f"{WORD}textdatei"),
    "doc": ("antrag.doc", "letter.fodt", f"{WORD}textdatei"),
    "odt": ("antrag.odt", "letter.fodt", f"{WORD}textdatei"),
    "rtf": ("antrag.rtf", "letter.fodt", f"{WORD}textdatei"),
    "xlsx": ("liste.xlsx", "table.csv", f"{WORD}tabelle"),
    "xls": ("liste.xls", "table.csv", f"{WORD}tabelle"),
    "ods": ("liste.ods", "table.csv", f"{WORD}tabelle"),
    "pptx": ("vortrag.pptx", "slides.fodp", f"{WORD}folie"),
    "odp": ("vortrag.odp", "slides.fodp", f"{WORD}folie"),
}
WRITTEN = {
    "text": ("notiz.txt", f"Notiz: {WORD}notiz. Grüße aus Usingen\n".encode("cp1252"), "Grüße"),
    "csv": ("export.csv", TABLE_CSV, f"{WORD}tabelle"),
    "html": (
        "seite.html",
        f"<html><body><h1>Hinweis</h1><p>{WORD}seite</p></body></html>".encode(),
        f"{WORD}seite",
    ),
    "xml": (
        "daten.xml",
        f'<?xml version="1.0"?>\n<antrag><name>{WORD}xml</name></antrag>\n'.encode(),
        f"{WORD}xml",
    ),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[str, bytes, str]]:
    """kind → (file name, bytes, a word in it): one file of every office kind."""
    root = tmp_path_factory.mktemp("office-corpus")
    (root / "letter.fodt").write_text(LETTER_FODT, encoding="utf-8")
    (root / "slides.fodp").write_text(SLIDES_FODP, encoding="utf-8")
    (root / "table.csv").write_bytes(TABLE_CSV)
    profile = (root / "profile").as_uri()
    found = {}
    for kind, (name, source, word) in MADE.items():
        extra = (
            ["--infilter=Text - txt - csv (StarCalc):59,34,76"] if source.endswith("csv") else []
        )
        out = root / kind
        subprocess.run(
            [
                *("soffice", f"-env:UserInstallation={profile}", "--headless", *extra),
                *("--convert-to", kind, "--outdir", str(out), str(root / source)),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        (made,) = out.iterdir()
        found[kind] = (name, made.read_bytes(), word)
    found.update(WRITTEN)
    return found


def _version(desk, document_id: int, kind: str) -> FileVersion:
    with desk.rt.session() as s:
        return s.scalars(
            select(FileVersion)
            .where(FileVersion.document_id == document_id, FileVersion.kind == kind)
            .order_by(FileVersion.id.desc())
        ).first()


def _stored(desk, version: FileVersion) -> bytes:
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
        return reader.read()


def test_every_office_kind_is_taken_in_with_pdfa_rendition_and_searchable_text(desk, corpus):
    taken = {}
    for kind, (name, data, _) in corpus.items():
        result = desk.take(data, name)
        assert result.outcome == Outcome.accepted, (kind, result.reason)
        assert office_types.KINDS[result.document.versions[0].mime] == kind
        taken[kind] = result.document.id
    for kind, document_id in taken.items():
        name, data, word = corpus[kind]
        assert desk.process(document_id) == "ready", (kind, desk.document(document_id))
        document = desk.document(document_id)
        assert word in document.extracted_text, (kind, document.extracted_text)
        original = _version(desk, document_id, "original")
        assert _stored(desk, original) == data  # byte-exact
        assert original.sha256 == hashlib.sha256(data).hexdigest()
        with pikepdf.open(
            io.BytesIO(_stored(desk, _version(desk, document_id, "rendition")))
        ) as pdf:
            assert pdf.open_metadata().pdfa_status == "2B", kind
            assert len(pdf.pages) == document.page_count >= 1


def _with_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    """The package with more parts (named in an ODF manifest, as LibreOffice wants)."""
    entries = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
        for name in parts
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "META-INF/manifest.xml":
                content = content.replace(
                    b"</manifest:manifest>", f"{entries}</manifest:manifest>".encode()
                )
            target.writestr(info, content)
        for name, content in parts.items():
            target.writestr(name, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


BASIC_MODULE = b"""<?xml version="1.0" encoding="UTF-8"?>
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">Sub Main
Shell("touch /tmp/eakte-macro-ran")
End Sub</script:module>"""


def test_macros_are_flagged_kept_and_never_run(desk, corpus):
    name, data, word = corpus["docx"]
    with_macros = _with_parts(data, {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 AutoOpen Shell"})
    odt_macros = _with_parts(corpus["odt"][1], {"Basic/Standard/Module1.xml": BASIC_MODULE})
    for filename, payload in (("makro.docm", with_macros), ("makro.odt", odt_macros)):
        result = desk.take(payload, filename)
        assert result.outcome == Outcome.accepted
        assert "macros" in result.document.flags.split(",")
        assert desk.process(result.document.id) == "ready"
        assert word in desk.document(result.document.id).extracted_text
        assert _stored(desk, _version(desk, result.document.id, "original")) == payload
    plain = desk.take(data, name)  # the same letter without: no flag
    assert "macros" not in plain.document.flags


def test_document_of_pictures_only_falls_back_to_ocr(desk, tmp_path):
    """A letter pasted into Word as a picture: LibreOffice's PDF has no text, OCR reads it."""
    picture = base64.b64encode(image_bytes(scan_image(GERMAN[:3]))).decode()
    html = tmp_path / "bild.html"
    html.write_text(f'<html><body><img src="data:image/png;base64,{picture}"></body></html>')
    subprocess.run(
        [
            *("soffice", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless"),
            *("--convert-to", "docx:MS Word 2007 XML", "--outdir", str(tmp_path), str(html)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    result = desk.take((tmp_path / "bild.docx").read_bytes(), "eingescannt.docx")
    assert desk.process(result.document.id) == "ready"
    assert "Ordnungsamt" in desk.document(result.document.id).extracted_text
    rendition = _stored(desk, _version(desk, result.document.id, "rendition"))
    with pikepdf.open(io.BytesIO(rendition)) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"


def _zip_bomb_docx() -> bytes:
    """A DOCX whose document part inflates from about 100 KB to 100 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * 100_000_000)
    return out.getvalue()


def test_zip_bomb_disguised_as_docx_is_quarantined_with_the_reason(desk):
    data = _zip_bomb_docx()
    result = desk.take(data, "bewerbung.docx")
    assert result.outcome == Outcome.quarantined
    assert result.reason_code == Reason.decompression_bomb
    assert "zip bomb" in result.reason and "would expand to 100,000,0" in result.reason
    assert desk.queued == []


def _odt_with_picture(png: bytes) -> bytes:
    """An ODT showing one embedded PNG, made by hand (LibreOffice would decode the picture)."""
    content = (
        f"<office:document-content {NS} "
        'xmlns:xlink="http://www.w3.org/1999/xlink"><office:body><office:text><text:p>Lageplan'
        '<draw:frame text:anchor-type="as-char" svg:width="15cm" svg:height="15cm">'
        '<draw:image xlink:href="Pictures/plan.png" xlink:type="simple" xlink:show="embed"/>'
        "</draw:frame></text:p></office:text></office:body></office:document-content>"
    )
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{office_types.ODT}"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", office_types.ODT)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("Pictures/plan.png", png)
    return out.getvalue()


def test_picture_bomb_inside_an_odt_is_quarantined_before_conversion(desk):
    rows = zlib.compress(b"\0" * (1 + 20_000 // 8) * 20_000, 9)  # 1-bit, all black
    png = png_header(20_000, 20_000, bit_depth=1) + png_chunk(b"IDAT", rows)
    result = desk.take(_odt_with_picture(png + png_chunk(b"IEND", b"")), "lageplan.odt")
    assert result.outcome == Outcome.quarantined
    assert result.reason_code == Reason.decompression_bomb
    assert "embedded picture Pictures/plan.png: 20000 × 20000 pixels" in result.reason


HANGING_SOFFICE = """#!/bin/sh
# a LibreOffice that never finishes, with a helper process of its own
echo $$ > "{pids}"
sleep 600 &
echo $! >> "{pids}"
exec sleep 600
"""


def test_hanging_conversion_is_stopped_and_the_next_document_goes_through(
    desk, corpus, tmp_path, monkeypatch
):
    name, data, word = corpus["odt"]
    pids = tmp_path / "pids"
    fake = tmp_path / "soffice"
    fake.write_text(HANGING_SOFFICE.format(pids=pids))
    fake.chmod(0o755)
    hanging = desk.take(data, name)
    monkeypatch.setattr(office, "SOFFICE", str(fake))
    assert desk.process(hanging.document.id, limits=JobLimits(office_seconds=2)) == "failed"
    reason = desk.document(hanging.document.id).failure_reason
    assert "did not finish the conversion within 2 s" in reason and "/" not in reason
    for pid in map(int, pids.read_text().split()):  # the whole group was killed
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    monkeypatch.setattr(office, "SOFFICE", "soffice")
    following = desk.take(corpus["docx"][1], corpus["docx"][0])
    assert desk.process(following.document.id) == "ready"
    assert word in desk.document(following.document.id).extracted_text


def test_conversion_beyond_its_memory_fails_with_a_reason(desk, corpus):
    name, data, _ = corpus["xlsx"]
    result = desk.take(data, name)
    tight = JobLimits(office_memory_bytes=64 * 1024 * 1024)  # too little to even start
    assert desk.process(result.document.id, limits=tight) == "failed"
    reason = desk.document(result.document.id).failure_reason
    assert "EAKTE_INGEST_OFFICE_MEMORY_MB" in reason and "64 MB" in reason


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


# ---------------------------------------------------------------- detection by structure


def test_ooxml_odf_and_ole_recognised_where_libmagic_is_vague(tmp_path, corpus):
    for kind in ("docx", "xlsx", "pptx", "odt", "ods", "odp", "doc", "xls"):
        path = tmp_path / kind
        path.write_bytes(corpus[kind][1])
        vague = "application/octet-stream"
        assert office_types.KINDS[office_types.refine(path, path.read_bytes()[:8], vague)] == kind
    assert office_types.refine(path, TABLE_CSV, "text/plain") == office_types.CSV
    prose = b"Sehr geehrte Damen und Herren,\nich bitte um Auskunft.\n"
    assert office_types.refine(path, prose, "text/plain") == office_types.TEXT


def test_every_office_kind_has_a_conversion():
    assert set(office_types.KINDS.values()) == office.KINDS


def test_text_in_legacy_encodings_is_read_as_written():
    from eakte.ingest.office_checks import decode_text

    assert decode_text("Grüße".encode()) == ("Grüße", "utf-8")
    assert decode_text("Grüße – €".encode("cp1252")) == ("Grüße – €", "cp1252")
    assert decode_text(b"Gr\xfc\x81e") == ("Gr\xfc\x81e", "latin-1")
