"""The ingest pipeline: every source (web upload, JSON API, hot folder, bulk import) goes
through ``intake`` (type by content, checks and ``bounds``, quarantine, store, register; a small
born-digital PDF's text layer is read there and the document is ready at once) and otherwise,
in a job, ``process`` (text layer or OCR to a PDF/A rendition, in a child process under the
limits of ``confine``). Services call it via ``eakte.services.intake``.

Tesseract must run single-threaded (``OMP_THREAD_LIMIT=1``): parallelism comes from worker
processes across documents, and Tesseract's own threads are slower on a busy machine. The
variable is set here, before anything below can load the library.
"""

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
