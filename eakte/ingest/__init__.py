"""The ingest pipeline: every source (web upload, JSON API, hot folder, bulk import) goes
through ``intake`` (type by content, checks and ``bounds``, quarantine, store, register; a small
born-digital PDF's text layer is read there and the document is ready at once) and otherwise,
in a job, ``process`` (text layer or OCR to a PDF/A rendition, in a child process under the
limits of ``confine``). Services call it via ``eakte.services.intake``.

Tesseract must run single-threaded (``OMP_THREAD_LIMIT=1``): parallelism comes from worker
processes across documents, and Tesseract's own threads are slower on a busy machine. The
variable is set by ``limit_tesseract_threads`` just before the library loads (and by the worker
command at start), not at import: importing reads and changes no environment.
"""

import os


def limit_tesseract_threads() -> None:
    """``OMP_THREAD_LIMIT=1`` unless the operator chose otherwise; read by OpenMP when
    libtesseract loads, and inherited by any tesseract process started after."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
