"""Ingest jobs: text extraction, OCR, PDF/A rendition (issue 4)."""
