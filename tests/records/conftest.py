"""A small town hall for the records tests: org units, schedules, a file plan, a user per role."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from eakte.models import Role
from eakte.services import accounts, fileplan
from eakte.services.documents import register_original
from eakte.services.objects import store_object
from tests.fixtures.app import PASSWORD

PLAN_CSV = """code;title;parent;schedule;org_unit
32;Öffentliche Sicherheit und Ordnung;;;32
32.10;Gewerbeangelegenheiten;32;Gewerbe 10 Jahre;32
32.10.05;Gewerbeanmeldungen;32.10;;32
32.20;Hundesteuer und Hundehaltung;32;Hund 6 Jahre;32.2
60;Bauverwaltung;;;60
60.01;Baugenehmigungen;60;Bau dauernd;60
99;Ohne Aufbewahrung;;;
"""


@dataclass
class World:
    rt: object
    tenant: object
    admin: object
    officer: object
    officer2: object
    clerk: object  # Ordnungsamt (32), sees 32 and 32.2
    clerk_sub: object  # Hundesteuer (32.2) only
    clerk_bau: object  # Bauamt (60)
    scanner: object

    def session(self):
        return self.rt.session()

    def inbox_document(self, title: str = "Antrag", org_unit_code: str = "32", data=None):
        """A document in an org unit's inbox, its bytes really in S3."""
        payload = data or f"%PDF-1.4 {title}".encode()
        with self.session() as s:
            unit_id = accounts._unit_id(s, self.tenant.id, org_unit_code)
            stored = store_object(
                s,
                self.rt.store,
                tenant_id=self.tenant.id,
                key=f"{self.tenant.slug}/test/{title}-{len(payload)}-{id(payload)}",
                stream=io.BytesIO(payload),
                content_type="application/pdf",
            )
            with s.begin():
                doc = register_original(
                    s,
                    None,
                    stored,
                    title=title,
                    filename=f"{title}.pdf",
                    inbox_org_unit_id=unit_id,
                    source="test",
                )
            return doc


@pytest.fixture
def world(rt, tenant) -> World:
    with rt.session() as s:
        admin = accounts.create_user(s, tenant, "admin", PASSWORD, {Role.admin})
        for code, name, parent in [
            ("32", "Ordnungsamt", None),
            ("32.2", "Hundesteuer", "32"),
            ("60", "Bauamt", None),
            ("10", "Hauptamt", None),
        ]:
            accounts.add_org_unit(s, admin, code, name, parent)

        def user(name, roles, unit):
            return accounts.add_user(s, admin, name, PASSWORD, set(roles), org_unit_code=unit)

        officer = user("registratur", [Role.records_officer], "10")
        officer2 = user("registratur2", [Role.records_officer], "10")
        clerk = user("sachb", [Role.clerk], "32")
        clerk_sub = user("hund", [Role.clerk], "32.2")
        clerk_bau = user("bau", [Role.clerk], "60")
        scanner = user("scan", [Role.scanner], "32")
        fileplan.create_schedule(
            s, officer, "Gewerbe 10 Jahre", period_years=10, action="V", legal_basis="GewO § 14"
        )
        fileplan.create_schedule(s, officer, "Hund 6 Jahre", period_years=6, action="V")
        fileplan.create_schedule(s, officer, "Bau dauernd", period_years=None, action="A")
        fileplan.import_csv(s, officer, PLAN_CSV.encode())
    return World(rt, tenant, admin, officer, officer2, clerk, clerk_sub, clerk_bau, scanner)
