"""Tenants (Mandanten): nothing crosses from one municipality to another."""

import pytest
from sqlalchemy import select

from eakte.errors import NotFound, PermissionDenied
from eakte.models import Role, Tenant
from eakte.permissions import Action, can
from eakte.services import accounts, cases, documents, fileplan
from retention import schedules
from tests.fixtures.app import PASSWORD


@pytest.fixture
def neighbour(world):
    """Usingen's neighbour town, hosted on the same installation, with a clerk and a case."""
    with world.session() as s:
        accounts.add_tenant(s, "neu-anspach", "Neu-Anspach", PASSWORD)
        tenant = s.scalar(select(Tenant).where(Tenant.slug == "neu-anspach"))
        admin = accounts.find_user(s, tenant, "admin")
        accounts.add_org_unit(s, admin, "32", "Ordnungsamt")
        officer = accounts.create_user(
            s, tenant, "reg", PASSWORD, {Role.records_officer}, org_unit_code="32"
        )
        clerk = accounts.create_user(s, tenant, "sachb", PASSWORD, {Role.clerk}, org_unit_code="32")
        schedules.create_schedule(s, officer, "Gewerbe 10 Jahre", period_years=10, action="V")
        fileplan.import_csv(
            s, officer, b"code;title;parent;schedule\n32.10.05;Gewerbe;;Gewerbe 10 Jahre\n"
        )
        case = cases.create_case(s, clerk, "32.10.05", "Nachbarakte", year=2026)
    return clerk, case


def test_same_codes_and_references_per_tenant(world, neighbour):
    _, their_case = neighbour
    with world.session() as s:
        ours = cases.create_case(s, world.clerk, "32.10.05", "Unsere Akte", year=2026)
    # each tenant has its own plan and sequences: both start at 0001
    assert ours.file_reference == their_case.file_reference == "32.10.05-0001/2026"


def test_user_cannot_open_other_tenants_case_by_any_id(world, neighbour):
    _, their_case = neighbour
    with world.session() as s:
        for ident in (their_case.id, str(their_case.uuid), their_case.file_reference):
            with pytest.raises(NotFound):
                cases.get_case(s, world.officer, ident)
            with pytest.raises(NotFound):
                cases.close_case(s, world.officer, ident)
        from eakte.models import Case

        obj = s.get(Case, their_case.id)
        assert not any(can(s, s.merge(world.officer), a, obj) for a in Action)


def test_other_tenant_sees_nothing_of_ours(world, neighbour):
    their_clerk, _ = neighbour
    doc = world.inbox_document("Unser Posteingang")
    with world.session() as s:
        with pytest.raises(NotFound):
            documents.get_document(s, their_clerk, doc.id)
        with pytest.raises(NotFound):
            documents.get_document(s, their_clerk, str(doc.uuid))
        with pytest.raises(NotFound):
            cases.create_case(s, their_clerk, str(world.officer.id), "Rate")
        exported = fileplan.export_csv(
            s, accounts.find_user(s, s.get(Tenant, their_clerk.tenant_id), "reg")
        )
        assert b"Hundesteuer" not in exported and b"32.10.05;Gewerbe" in exported


def test_same_username_in_two_tenants_signs_in_separately(world, neighbour):
    with world.session() as s:
        ours = accounts.authenticate(s, "default", "sachb", PASSWORD)
        theirs = accounts.authenticate(s, "neu-anspach", "sachb", PASSWORD)
        assert ours.tenant_id != theirs.tenant_id
        with pytest.raises(PermissionDenied):
            accounts.list_users(s, theirs)


def test_other_tenant_cannot_open_find_or_count_through_the_web(world, neighbour, app):
    """Ids in URLs, search results and counts: nothing of Usingen reaches the neighbour."""
    from sqlalchemy import update

    from eakte.models import Document
    from eakte.services.indexer import index_pending
    from tests.fixtures.app import csrf_token

    doc = world.inbox_document("Geheimer Bauantrag")
    with world.session() as s, s.begin():
        s.execute(
            update(Document)
            .where(Document.id == doc.id)
            .values(status="ready", extracted_text="Zauberwort Quittenmus", index_dirty=True)
        )
    with world.session() as s:
        ours = cases.create_case(s, world.clerk, "32.10.05", "Quittenmus Akte")
    index_pending(world.rt)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={
            "csrf_token": token,
            "tenant": "neu-anspach",
            "username": "sachb",
            "password": PASSWORD,
        },
    )
    assert client.get("/").status_code == 200
    assert client.get(f"/akten/{ours.uuid}").status_code == 404
    assert client.get(f"/dokumente/{doc.uuid}").status_code == 404
    version = doc.versions[0]
    assert client.get(f"/dokumente/version/{version.uuid}").status_code == 404
    results = client.get("/suche/?q=Quittenmus").get_data(as_text=True)
    assert "0 Treffer" in results and "Quittenmus Akte" not in results
    home = client.get("/").get_data(as_text=True)
    assert "Geheimer Bauantrag" not in home and "(0)" in home
