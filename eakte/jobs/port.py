"""The job-queue port: what web views and commands may ask of the background workers.

The runtime holds one implementation (``eakte.jobs.factory.HueyJobs``); callers reach it as
``runtime.jobs`` and never import Huey or a task. Tests may pass any object with these methods.
"""

from __future__ import annotations

from typing import Protocol


class Jobs(Protocol):
    def process_document(self, document_id: int) -> None:
        """Extract text, OCR and render the document in a worker."""

    def enqueue(self, document_id: int, *, ready: bool = False) -> None:
        """Intake's hand-off (``eakte.services.intake.Enqueue``): process the document, or
        (``ready``: finished at intake) only index it."""

    def index_soon(self) -> None:
        """Bring the search index up to date soon (coalesced: cheap after every change)."""

    def index_now(self) -> None:
        """Enqueue an indexer run now, without coalescing."""

    def request_disposal(self, request_id: int, user_id: int) -> None:
        """Run (or resume) an approved disposal request in a worker."""

    def verify_now(self) -> str:
        """Start a full verify run in a worker; the job's id."""

    def render_thumbnail(self, document_id: int) -> None:
        """Render a document's thumbnail in a worker (once; see eakte.services.thumbnails)."""

    def queued_document_ids(self) -> set[int]:
        """Documents with a processing job waiting or scheduled for a retry."""

    def pending_count(self) -> int:
        """Jobs waiting in the queue (for health and metrics)."""
