"""Benchmark: validating the signatures of signed PDFs (issue 25), as the worker does it.

A 3-page letter signed once, and the same letter signed three times (three revisions), by a
test CA made here; each validated ``ROUNDS`` times in process (``signatures.validate``) and in a
confined child (``validate_confined``, what the worker runs). Prints the median and the worst
time per document.

    .venv/bin/python -m bench.pdf_signature_bench
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from eakte.ingest.confine import JobLimits
from eakte.ingest.signatures import Trust, validate, validate_confined
from tests.ingest.conftest import born_digital_pdf
from tests.ingest.pdf_signing import issue, make_ca, sign_pdf

ROUNDS = 20


def main() -> None:
    ca = make_ca()
    signers = [issue(ca, f"Unterzeichner {n}", "Stadt Usingen") for n in range(3)]
    letter = born_digital_pdf(3, "Bescheid über die Erteilung einer Baugenehmigung")
    once = sign_pdf(letter, signers[0], ca)
    thrice = once
    for number, signer in enumerate(signers[1:], start=2):
        thrice = sign_pdf(thrice, signer, ca, field=f"Unterschrift{number}")
    with tempfile.TemporaryDirectory() as work:
        trust_dir = Path(work) / "trust"
        trust_dir.mkdir()
        (trust_dir / "ca.pem").write_bytes(ca.pem)
        trust = Trust.load(trust_dir)
        for name, data in [("1 signature", once), ("3 signatures", thrice)]:
            path = Path(work) / "signed.pdf"
            path.write_bytes(data)
            for how, run in [
                ("in process", lambda p=path: validate(p, trust)),
                ("confined", lambda p=path: validate_confined(p, trust_dir, JobLimits())),
            ]:
                times = []
                for _ in range(ROUNDS):
                    started = time.perf_counter()
                    results = run()
                    times.append(time.perf_counter() - started)
                statuses = ",".join(r.status.value for r in results)
                print(
                    f"{name:13} {how:10}: median {statistics.median(times) * 1000:6.1f} ms, "
                    f"worst {max(times) * 1000:6.1f} ms ({len(data) // 1024} KB; {statuses})"
                )


if __name__ == "__main__":
    main()
