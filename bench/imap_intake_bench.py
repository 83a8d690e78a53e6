"""Benchmark (issue 17): an IMAP account with many messages taken in by ``eakte mail run``,
without OCR (no worker runs: the documents wait for processing), on a fresh installation
(SQLite, embedded SeaweedFS) and the tests' Dovecot on 127.0.0.1. Every fifth message carries
a one-page PDF (two documents). Mail is put in with IMAP APPEND beforehand (not timed).

    .venv/bin/python -m bench.imap_intake_bench [--messages 10000]

Prints messages per second and the peak resident memory of the eakte process and of Dovecot's.
Target: >= 20 messages/s, no process above 500 MB.
"""

from __future__ import annotations

import argparse
import time

from bench._ingest_setup import MemoryWatch, installation, wait_for
from tests.fixtures.dovecot import PASSWORD, USER, start_dovecot
from tests.ingest.conftest import born_digital_pdf
from tests.ingest.mails import letter

MB = 1024 * 1024


def messages(count: int):
    attachment = born_digital_pdf(1, "Anlage zum Antrag")
    for n in range(count):
        message = letter(f"Antrag Nr. {n}", f"Sehr geehrte Damen und Herren, Vorgang {n}.\n")
        if n % 5 == 0:
            message.add_attachment(
                attachment, maintype="application", subtype="pdf", filename=f"Anlage-{n}.pdf"
            )
        yield message.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    dovecot = start_dovecot()
    try:
        started = time.monotonic()
        imap = dovecot.client()
        for raw in messages(args.messages):
            imap.append("INBOX", "", None, raw)
        imap.logout()
        print(f"appended {args.messages} messages in {time.monotonic() - started:.0f} s")
        with installation("eakte-imap-bench-") as inst:
            inst.eakte(
                "mail", "add", "gewerbe", "--host", "127.0.0.1",
                "--port", str(dovecot.imaps_port), "--login", USER, "--secret-stdin",
                "--inbox", "32", "--ca-file", str(dovecot.ca_file), "--user", "admin",
                input=PASSWORD + "\n",
            )  # fmt: skip
            assert dovecot.proc is not None
            with MemoryWatch([dovecot.proc.pid]) as watch:
                started = time.monotonic()
                run = inst.start("mail", "run", "--user", "admin", log="mail-run")
                watch.add(run.pid)
                wait_for(lambda: run.poll() is not None, timeout=24 * 3600, poll=0.5)
                elapsed = time.monotonic() - started
            out = (inst.data_dir / "mail-run.out").read_text()
            err = (inst.data_dir / "mail-run.err").read_text()
            if run.returncode != 0:
                raise RuntimeError(f"eakte mail run failed:\n{out}{err}")
            print(out.strip())
            counts = inst.counts()
            print(f"documents: {counts}")
            print(
                f"{args.messages} messages in {elapsed:.1f} s: "
                f"{args.messages / elapsed:.1f} messages/s"
            )
            for name, peak in sorted(watch.peaks.items(), key=lambda kv: -kv[1])[:5]:
                print(f"peak RSS {name}: {peak / MB:.0f} MB")
            print(f"left in INBOX: {dovecot.count('INBOX')}, in eAkte: {dovecot.count('eAkte')}")
    finally:
        dovecot.stop()


if __name__ == "__main__":
    main()
