"""OCRmyPDF's internals that OCR relies on (``eakte.ingest.ocrmypdf_compat``) are checked: the
check passes on the installed OCRmyPDF and fails loudly, naming OCRmyPDF and its version, when
an internal is gone, answers otherwise, or the version is outside the supported range; the
in-memory deskew step is installed when OCRmyPDF loads the plugin, and really used."""

from __future__ import annotations

import ocrmypdf
import ocrmypdf._pipeline as pipeline
import ocrmypdf._pipelines._common as common
import ocrmypdf.builtin_plugins.pypdfium as builtin_pdfium
import pytest
from ocrmypdf._exec import _probe
from ocrmypdf.helpers import Resolution

from eakte.errors import EDGE_ERRORS, ExitCode
from eakte.ingest import ocr_engine, ocrmypdf_compat
from eakte.ingest.ocrmypdf_compat import OcrmypdfIncompatible
from eakte.ingest.text import PDFIUM_LOCK
from tests.ingest.conftest import scan_image


def _fails(match: str = "") -> OcrmypdfIncompatible:
    with pytest.raises(OcrmypdfIncompatible) as caught:
        ocrmypdf_compat.self_check()
    exc = caught.value
    assert str(exc).startswith(f"ocrmypdf {ocrmypdf.__version__} is not supported"), str(exc)
    assert match in str(exc)
    assert isinstance(exc, EDGE_ERRORS) and exc.exit_code == ExitCode.config
    return exc


def test_the_check_passes_on_the_installed_ocrmypdf():
    ocrmypdf_compat.self_check()


def test_a_deskew_step_that_is_gone_fails_the_check(monkeypatch):
    monkeypatch.delattr(pipeline, "preprocess_deskew")
    _fails("preprocess_deskew")


def test_a_pipeline_that_no_longer_looks_the_step_up_fails_the_check(monkeypatch):
    """A release that calls the step some other way would silently skip the replacement."""
    for name, fn in list(vars(common).items()):
        code = getattr(fn, "__code__", None)
        if code is not None and "preprocess_deskew" in code.co_names:
            monkeypatch.setattr(common, name, lambda *args, **kwargs: None)
    _fails("no longer looks the deskew step up")


def test_a_rasteriser_lock_that_is_gone_fails_the_check(monkeypatch):
    monkeypatch.delattr(builtin_pdfium, "_pdfium_lock")
    _fails("lock")


def test_a_version_probe_that_is_gone_fails_the_check(monkeypatch):
    monkeypatch.delattr(_probe, "get_version")
    _fails("get_version")


def test_a_page_resolution_computed_otherwise_fails_the_check(monkeypatch):
    monkeypatch.setattr(pipeline, "calculate_image_dpi", lambda _context: Resolution(72, 72))
    _fails("resolution")


@pytest.mark.parametrize("version", ["18.0.0", "16.9.1"])
def test_a_version_outside_the_supported_range_fails_the_check(monkeypatch, version):
    monkeypatch.setattr(ocrmypdf, "__version__", version)
    with pytest.raises(OcrmypdfIncompatible, match=f"ocrmypdf {version} is not supported"):
        ocrmypdf_compat.self_check()
    # Loading the plugin fails as loudly: the deskew step is not replaced silently.
    with pytest.raises(OcrmypdfIncompatible):
        ocr_engine.initialize(None)


def test_loading_the_plugin_fails_when_the_step_is_gone(monkeypatch):
    monkeypatch.delattr(pipeline, "preprocess_deskew")
    monkeypatch.setattr(common, "preprocess_deskew", common.preprocess_deskew)
    with pytest.raises(OcrmypdfIncompatible, match="preprocess_deskew"):
        ocr_engine.initialize(None)


def test_ocr_installs_and_uses_the_in_memory_deskew_step(tmp_path, monkeypatch):
    """Importing the plugin changes nothing; OCRmyPDF loading it installs the step, which
    then turns the kept page in memory."""
    from eakte.ingest.ocr import image_to_pdf, ocr_to_pdfa

    monkeypatch.setattr(common, "preprocess_deskew", pipeline.preprocess_deskew)
    monkeypatch.setattr(builtin_pdfium, "_pdfium_lock", builtin_pdfium._pdfium_lock)
    used = []
    real = ocr_engine._deskew_in_memory

    def counting(input_file, page_context):
        used.append(input_file)
        return real(input_file, page_context)

    monkeypatch.setattr(ocr_engine, "_deskew_in_memory", counting)
    page = scan_image(dpi=200, skew=1.5)
    page.save(tmp_path / "scan.png", "PNG", dpi=(200, 200))
    image_to_pdf(tmp_path / "scan.png", tmp_path / "scan.pdf")
    assert common.preprocess_deskew is pipeline.preprocess_deskew  # nothing at import
    texts = ocr_to_pdfa(tmp_path / "scan.pdf", tmp_path / "out.pdf", tmp_path / "side.txt")
    assert common.preprocess_deskew is counting
    assert builtin_pdfium._pdfium_lock is PDFIUM_LOCK
    assert len(used) == 1 and "Gaststättenerlaubnis" in texts[0]
