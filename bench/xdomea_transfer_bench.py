"""xdomea 4.0.0 transfer benchmark (issue 27): a handover of N documents (default 5,000) out of
one tenant as a 0401 container, and taken in by another tenant — in each direction the time,
on a fresh installation (SQLite, embedded SeaweedFS).

    python bench/xdomea_transfer_bench.py                    # 5,000 documents, 10 per case
    python bench/xdomea_transfer_bench.py --documents 500

Set-up (not timed as a transfer): the sending town's cases with small born-digital PDFs stored
in S3 as the intake stores them. "Out": ``exchange.export_handover`` — every file read back
from S3 with its sha256 verified, the 0401 written and validated, the container packed.
"In": ``takein.take_in`` — the container checked completely (schema, every primary document,
every hash), then every case created and every document taken in through the normal intake
(stored in S3, hash checked again; the OCR/processing jobs are left to the workers, not run
here). Checked afterwards: the receiver holds exactly the documents sent, equal in hash.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fpdf import FPDF
from sqlalchemy import func, select

from bench._ingest_setup import PASSWORD, installation
from eakte.config import Settings
from eakte.models import Document, FileVersion, Role
from eakte.runtime import open_runtime
from eakte.services import accounts, cases, documents, fileplan
from eakte.services.objects import store_object
from retention import schedules
from retention.xdomea4 import exchange, takein


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _people(rt):
    with rt.session() as s:
        sender = accounts.get_tenant(s, "default")
        officer = accounts.create_user(
            s,
            sender,
            "registratur",
            PASSWORD,
            {Role.records_officer, Role.clerk},
            org_unit_code="32",
        )
        schedules.create_schedule(s, officer, "Bench A 10", period_years=10, action="A")
        fileplan.create_node(
            s, officer, "32", "Ordnung", schedule_name="Bench A 10", org_unit_code="32"
        )
        receiver_tenant = accounts.add_tenant(s, "nachbar", "Gemeinde Nachbar", PASSWORD)
        admin = s.scalar(
            select(accounts.User).where(
                accounts.User.tenant_id == receiver_tenant.id, accounts.User.username == "admin"
            )
        )
        accounts.add_org_unit(s, admin, "10", "Hauptamt", None)
        receiver = accounts.create_user(
            s,
            receiver_tenant,
            "registratur",
            PASSWORD,
            {Role.records_officer, Role.clerk},
            org_unit_code="10",
        )
        schedules.create_schedule(s, receiver, "Übernahme", period_years=10, action="A")
        fileplan.create_node(
            s, receiver, "01", "Übernommen", schedule_name="Übernahme", org_unit_code="10"
        )
        return officer, receiver


def _cases(rt, officer, total: int, per_case: int) -> list[int]:
    ids: list[int] = []
    made = 0
    while made < total:
        with rt.session() as s:
            case = cases.create_case(s, officer, "32", f"Bench-Akte {len(ids) + 1}")
            process = cases.add_process(s, officer, case.id, "Vorgang")
            ids.append(case.id)
            for _ in range(min(per_case, total - made)):
                made += 1
                payload = _pdf(f"Schreiben Nummer {made} der Bench-Akte {len(ids)}")
                stored = store_object(
                    s,
                    rt.store,
                    tenant_id=officer.tenant_id,
                    key=f"default/documents/bench-{made}/original.pdf",
                    stream=io.BytesIO(payload),
                    content_type="application/pdf",
                )
                with s.begin():
                    doc = documents.register_original(
                        s,
                        officer,
                        stored,
                        title=f"Schreiben {made}",
                        filename=f"s{made}.pdf",
                        inbox_org_unit_id=officer.org_unit_id,
                        source="bench",
                    )
                documents.file_document(s, officer, doc.id, process.id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--per-case", type=int, default=10)
    args = parser.parse_args()
    with installation("xdomea-bench-") as inst:
        os.environ.update(inst.env)
        settings = Settings.from_env()
        with open_runtime(settings) as rt:
            officer, receiver = _people(rt)
            start = time.perf_counter()
            ids = _cases(rt, officer, args.documents, args.per_case)
            setup = time.perf_counter() - start
            out = inst.data_dir.parent / f"{inst.data_dir.name}-out"
            out.mkdir()
            start = time.perf_counter()
            with rt.session() as s:
                sent = exchange.export_handover(s, officer, rt.store, ids, out, recipient="Nachbar")
            outward = time.perf_counter() - start
            size = sent.path.stat().st_size
            start = time.perf_counter()
            with rt.session() as s:
                taken = takein.take_in(
                    s, receiver, rt.store, sent.path, node="01", settings=settings
                )
            inward = time.perf_counter() - start
            assert not taken.problems, taken.problems[:5]
            with rt.session() as s:
                received = s.scalar(
                    select(func.count(Document.id)).where(Document.tenant_id == receiver.tenant_id)
                )
                hashes = {
                    tenant: sorted(
                        s.scalars(
                            select(FileVersion.sha256)
                            .join(Document, Document.id == FileVersion.document_id)
                            .where(Document.tenant_id == tenant)
                        )
                    )
                    for tenant in (officer.tenant_id, receiver.tenant_id)
                }
            assert received == args.documents, received
            assert hashes[officer.tenant_id] == hashes[receiver.tenant_id]
            n = args.documents
            print(f"documents: {n} in {len(ids)} cases (set-up {setup:.1f} s)")
            print(
                f"out (0401 written, {size / 1e6:.1f} MB): {outward:.1f} s "
                f"= {n / outward:.0f} documents/s"
            )
            print(f"in (checked and taken in): {inward:.1f} s = {n / inward:.0f} documents/s")
            print("every document received, equal in hash")
            for path in out.iterdir():
                path.unlink()
            out.rmdir()


if __name__ == "__main__":
    main()
