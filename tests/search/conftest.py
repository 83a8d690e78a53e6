"""A small mixed archive for search tests: cases and documents in several org units, inbox
documents, restricted ones, and a neighbouring tenant — all indexed.

Every search test runs against each search backend: Whoosh on SQLite and on PostgreSQL, and
the PostgreSQL full-text backend (``EAKTE_SEARCH_BACKEND=postgresql``) on PostgreSQL — one
suite, the same assertions (``search_case`` below).
"""

from __future__ import annotations

import contextlib
import io
import uuid
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import create_engine, select, update

from eakte.models import Document, DocumentStatus, OrgUnit, Role, Tenant
from eakte.services import accounts, cases, documents
from eakte.services.documents import register_original
from eakte.services.indexer import index_pending
from eakte.services.objects import store_object
from indexing.pg import PgIndex
from tests.fixtures.app import PASSWORD, replace_settings

SEARCH_CASES = [
    pytest.param(("sqlite", "whoosh"), id="sqlite"),
    pytest.param(("postgresql", "whoosh"), id="postgresql", marks=pytest.mark.postgres),
    pytest.param(("postgresql", "postgresql"), id="pgsearch", marks=pytest.mark.postgres),
]


@pytest.fixture(params=SEARCH_CASES)
def search_case(request) -> tuple[str, str]:
    """(database, search backend) of one run."""
    return request.param


@pytest.fixture
def search_backend(search_case) -> str:
    return search_case[1]


@pytest.fixture
def database_url(request, search_case, tmp_path):
    """As ``tests.fixtures.db.database_url``, for the database of ``search_case``."""
    if search_case[0] == "sqlite":
        yield f"sqlite:///{tmp_path / 'eakte.db'}"
        return
    server = request.getfixturevalue("pg_server_url")
    yield from pg_schema_url(server)


def pg_schema_url(server: str):
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in server else "?"
    base = server.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextlib.contextmanager
def pg_index(server: str):
    """An empty PostgreSQL search index in a schema of its own (dropped afterwards)."""
    urls = pg_schema_url(server)
    engine = create_engine(next(urls))
    try:
        yield PgIndex(engine)
    finally:
        engine.dispose()
        urls.close()


@pytest.fixture
def settings(settings, search_backend):
    return replace_settings(settings, search_backend=search_backend)


@pytest.fixture
def env(env, search_backend, monkeypatch):
    monkeypatch.setenv("EAKTE_SEARCH_BACKEND", search_backend)
    return {**env, "EAKTE_SEARCH_BACKEND": search_backend}


@dataclass
class Archive:
    world: object
    ids: dict[str, int] = field(default_factory=dict)  # name -> document id
    case_ids: dict[str, int] = field(default_factory=dict)
    neighbour_clerk: object = None

    def key(self, name: str) -> str:
        if name in self.case_ids:
            return f"c{self.case_ids[name]}"
        return f"d{self.ids[name]}"


def set_text(session, doc_id: int, text: str, **values) -> None:
    """What the ingest pipeline does once text is extracted (tests skip OCR)."""
    with session.begin():
        session.execute(
            update(Document)
            .where(Document.id == doc_id)
            .values(
                extracted_text=text,
                status=DocumentStatus.ready.value,
                index_dirty=True,
                **values,
            )
        )


def add_document(world, title, text, *, unit="32", process=None, actor=None, **values) -> int:
    doc = world.inbox_document(title, unit)
    with world.session() as s:
        set_text(s, doc.id, text, **values)
        if process is not None:
            documents.file_document(s, actor or world.officer, doc.id, process)
    return doc.id


def neighbour_tenant(world):
    """A second municipality on the same installation, with a clerk and one inbox document."""
    with world.session() as s:
        accounts.add_tenant(s, "nachbar", "Nachbarstadt", PASSWORD)
        tenant = s.scalar(select(Tenant).where(Tenant.slug == "nachbar"))
        admin = accounts.find_user(s, tenant, "admin")
        accounts.add_org_unit(s, admin, "32", "Ordnungsamt")
        clerk = accounts.create_user(s, tenant, "sachb", PASSWORD, {Role.clerk}, org_unit_code="32")
        unit_id = s.scalar(
            select(OrgUnit.id).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == "32")
        )
        stored = store_object(
            s,
            world.rt.store,
            tenant_id=tenant.id,
            key="nachbar/test/gebuehr",
            stream=io.BytesIO(b"%PDF-1.4 Nachbar"),
            content_type="application/pdf",
        )
        with s.begin():
            doc = register_original(
                s,
                None,
                stored,
                title="Gebührenbescheid Nachbarstadt",
                filename="n.pdf",
                inbox_org_unit_id=unit_id,
                source="test",
            )
        set_text(s, doc.id, "Gebühren der Nachbarstadt Zweitwohnungsteuer")
        return clerk, doc.id


@pytest.fixture
def archive(world) -> Archive:
    a = Archive(world)
    with world.session() as s:
        gewerbe = cases.create_case(s, world.clerk, "32.10.05", "Gewerbeuntersagung Müller")
        anhoerung = cases.add_process(s, world.clerk, gewerbe.id, "Anhörung")
        hund = cases.create_case(s, world.clerk_sub, "32.20", "Hundesteuer Bello")
        hund_p = cases.add_process(s, world.clerk_sub, hund.id, "Veranlagung")
        bau = cases.create_case(s, world.clerk_bau, "60.01", "Baugenehmigung Schulstraße 5")
        bau_p = cases.add_process(s, world.clerk_bau, bau.id, "Prüfung")
        secret = cases.create_case(s, world.clerk, "32.10.05", "Akte Gesundheitsamt Meier")
        secret_p = cases.add_process(s, world.clerk, secret.id, "Gutachten")
        cases.restrict_case(s, world.clerk, secret.id, True, "Art. 18 DSGVO")
    a.case_ids.update(gewerbe=gewerbe.id, hund=hund.id, bau=bau.id, secret=secret.id)
    a.ids["gewerbe_bescheid"] = add_document(
        world,
        "Gebührenbescheid Gewerbeuntersagung",
        "Sehr geehrter Herr Müller, für die Gewerbeuntersagung setzen wir Gebühren fest. "
        "Die Gebühr ist innerhalb eines Monats zu zahlen.",
        process=anhoerung.id,
        doc_type="Bescheid",
        correspondent="Hans Müller",
        received_date=date(2022, 3, 15),
    )
    a.ids["hund_bescheid"] = add_document(
        world,
        "Hundesteuerbescheid Bello",
        "Für den Hund Bello wird die Hundesteuer festgesetzt. Die Gebuehr beträgt 90 Euro.",
        unit="32.2",
        process=hund_p.id,
        doc_type="Bescheid",
        received_date=date(2023, 1, 10),
    )
    a.ids["bau_antrag"] = add_document(
        world,
        "Bauantrag Schulstraße 5",
        "Antrag auf Baugenehmigung für ein Einfamilienhaus. Die Gebühren werden nach der "
        "Baugebührensatzung erhoben.",
        unit="60",
        process=bau_p.id,
        doc_type="Antrag",
        received_date=date(2021, 6, 1),
    )
    a.ids["inbox_32"] = add_document(
        world,
        "Antrag Gaststättenerlaubnis",
        "Antrag auf Gaststättenerlaubnis, Gebühr wurde überwiesen.",
        doc_type="Antrag",
        received_date=date(2024, 2, 2),
    )
    a.ids["inbox_60"] = add_document(
        world,
        "Anfrage Bauvoranfrage",
        "Anfrage zur Bauvoranfrage, Gebühren bitte mitteilen.",
        unit="60",
        received_date=date(2024, 5, 5),
    )
    a.ids["restricted_doc"] = add_document(
        world,
        "Ärztliches Attest",
        "Geheimwort Krankheitsgeschichte: Gebühr erlassen wegen Erkrankung.",
        process=anhoerung.id,
        restricted=True,
        received_date=date(2022, 4, 1),
    )
    a.ids["in_secret_case"] = add_document(
        world,
        "Gutachten Gesundheitsamt",
        "Vertraulich: Gebühr und Befund im Gutachten.",
        process=secret_p.id,
        received_date=date(2022, 5, 1),
    )
    a.neighbour_clerk, a.ids["neighbour"] = neighbour_tenant(world)
    index_pending(world.rt)
    return a
