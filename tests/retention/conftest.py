"""Helpers for the retention tests: closed cases with documents really in S3, a second bucket
view with injected failures, and the packaged xdomea schema."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
import xmlschema
from sqlalchemy import select

from eakte.models import Case, Document, DocumentStatus, FileVersion, Process, Role, VersionKind
from eakte.services import accounts, cases, documents
from eakte.services.documents import version_for
from eakte.services.objects import store_object
from retention import disposal, locks
from retention.xdomea.schema import ENTRY
from tests.fixtures.app import PASSWORD, replace_settings
from tests.fixtures.s3 import TEST_FLOOR, wait_for_floor


@dataclass
class Records:
    world: object

    @property
    def store(self):
        return self.world.rt.store

    def case(
        self,
        title: str,
        *,
        node: str = "32.10.05",
        closed_on: date | None = date(2010, 3, 10),
        documents_: int = 1,
        actor=None,
        rendition: bool = False,
    ) -> Case:
        """A case with one process and ``documents_`` filed documents, closed on ``closed_on``."""
        w = self.world
        actor = actor or w.officer
        with w.session() as s:
            unit = cases.find_node(s, actor, node).org_unit_id  # the node's unit is responsible
            case = cases.create_case(s, actor, node, title, org_unit_id=unit)
            process = cases.add_process(s, actor, case.id, "Vorgang 1")
        for number in range(documents_):
            doc = w.inbox_document(
                f"{title} Dokument {number}", data=f"%PDF {title} {number}".encode()
            )
            with w.session() as s:
                documents.file_document(s, actor, doc.id, process.id)
            if rendition:
                self.add_rendition(doc.id)
        if closed_on is not None:
            with w.session() as s:
                cases.close_case(s, actor, case.id, on=closed_on)
        with w.session() as s:
            return s.get(Case, case.id)

    def add_rendition(self, document_id: int) -> FileVersion:
        """What the ingest pipeline adds: a PDF/A rendition stored under the document's UUID."""
        w = self.world
        with w.session() as s:
            doc = s.get(Document, document_id)
            payload = f"%PDF-1.7 PDF/A rendition of {doc.title}".encode()
            stored = store_object(
                s,
                self.store,
                tenant_id=doc.tenant_id,
                key=f"{w.tenant.slug}/documents/{doc.uuid}/rendition.pdf",
                stream=io.BytesIO(payload),
                content_type="application/pdf",
            )
            with s.begin():
                doc = s.get(Document, document_id)
                version = version_for(stored, VersionKind.rendition, "rendition.pdf")
                doc.versions.append(version)
                doc.extracted_text = f"Volltext von {doc.title}"
                doc.status = DocumentStatus.ready.value
            return version

    def keys_of_case(self, case_id: int) -> list[str]:
        with self.world.session() as s:
            return sorted(
                s.scalars(
                    select(FileVersion.s3_key)
                    .join(Document, Document.id == FileVersion.document_id)
                    .join(Process, Process.id == Document.process_id)
                    .where(Process.case_id == case_id)
                    .distinct()
                )
            )

    def versions_under(self, prefix: str) -> list:
        return list(self.store.list(prefix=prefix, versions=True))

    def approved(self, *case_ids: int, proposer=None, approver=None, wait: bool = True):
        """An approved disposal request; with ``wait``, once the floor of everything stored
        so far has run out (COMPLIANCE: disposal deletes only what is no longer locked)."""
        w = self.world
        with w.session() as s:
            request = disposal.propose(s, proposer or w.officer, list(case_ids))
            disposal.approve(s, approver or w.officer2, request.id)
        if wait:
            wait_for_floor(self.store)
        return request

    def sync_locks(self, case_ids=None):
        with self.world.session() as s:
            return locks.sync_object_locks(s, self.store, case_ids=case_ids)

    def user(self, name: str, roles: set[Role]):
        with self.world.session() as s:
            return accounts.create_user(
                s, self.world.tenant, name, PASSWORD, roles, org_unit_code="10"
            )


@pytest.fixture
def settings(settings):
    """Retention tests dispose of what they store: a floor of seconds they can wait out."""
    return replace_settings(settings, min_retention=TEST_FLOOR)


@pytest.fixture
def records(world) -> Records:
    return Records(world)


class FaultyStore:
    """The real store, with a hook run before (or after) a chosen method call: failure
    injection for crashes and for events that happen while a job runs."""

    def __init__(self, store, method: str, hook, *, after: bool = False):
        self._store, self._method, self._hook, self._after = store, method, hook, after
        self.calls = 0

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if name != self._method:
            return attr

        def wrapped(*args, **kwargs):
            self.calls += 1
            if not self._after:
                self._hook(self.calls, *args)
            result = attr(*args, **kwargs)
            if self._after:
                self._hook(self.calls, *args)
            return result

        return wrapped


class Crash(Exception):
    """Stands for the process dying at this point."""


@pytest.fixture(scope="session")
def xsd():
    """The xdomea 3.1.0 schema shipped in the package, read by a second validator (xmlschema):
    the tests check what production validates with lxml independently of it."""
    return xmlschema.XMLSchema(str(ENTRY))
