"""Benchmark: metadata and filing suggestions (issue 18).

Metadata: on generated German letters (``tests.fixtures.german_letters``: five layouts,
distracting dates, OCR-like typos) the share whose suggested title is exact or near (difflib
ratio ≥ 0.9, case-insensitive), whose letter date is right, and whose sender is exact or near.
Targets: title ≥ 85 %, date ≥ 95 %, sender ≥ 80 %.

Filing: generated filed documents (``tests.fixtures.filing_corpus``) in 300 cases under 60
file-plan nodes; 90 % train the classifier, the rest are suggested for. Targets: the right
case top-1 ≥ 70 %, top-3 ≥ 90 %; training ≤ 60 s; one suggestion ≤ 50 ms (median and p99,
the stored model loaded as the service does).

    .venv/bin/python -m bench.suggest_bench [--letters 1000] [--documents 20000]
"""

from __future__ import annotations

import argparse
import difflib
import os
import statistics
import time

from eakte.suggest import filing, metadata
from tests.fixtures.filing_corpus import corpus
from tests.fixtures.german_letters import letter


def _near(found: str, wanted: str) -> bool:
    return difflib.SequenceMatcher(None, found.lower(), wanted.lower()).ratio() >= 0.9


def metadata_bench(count: int) -> None:
    hits = {"title": 0, "date": 0, "sender": 0, "type": 0}
    started = time.perf_counter()
    for seed in range(count):
        made = letter(seed)
        found = metadata.suggest(made.text)
        hits["title"] += _near(found.title, made.title)
        hits["date"] += found.letter_date == made.date
        hits["sender"] += _near(found.sender, made.sender)
        hits["type"] += found.doc_type == made.doc_type
    per_letter = (time.perf_counter() - started) / count * 1000
    print(f"metadata: {count} letters, {per_letter:.2f} ms per letter")
    for name, target in [("title", 85), ("date", 95), ("sender", 80), ("type", None)]:
        share = 100 * hits[name] / count
        goal = f"(target ≥ {target} %)" if target else "(rules only; no target)"
        print(f"  {name:7} {share:5.1f} % {goal}")


def filing_bench(documents: int, cases: int, nodes: int) -> None:
    made = corpus(documents, cases, nodes)
    split = int(len(made.docs) * 0.9)
    train, test = made.docs[:split], made.docs[split:]
    started = time.perf_counter()
    model = filing.train([d.text for d in train], [d.case for d in train])
    seconds = time.perf_counter() - started
    assert model is not None
    blob = filing.dump(model)
    loaded = filing.load(blob)
    top1 = top3 = node1 = 0
    times = []
    for doc in test:
        t = time.perf_counter()
        ranked = loaded.rank(doc.text)
        times.append(time.perf_counter() - t)
        ids = [case for case, _ in ranked]
        top1 += ids[0] == doc.case
        top3 += doc.case in ids
        node1 += made.case_node[ids[0]] == doc.node
    times.sort()
    print(
        f"filing: {len(train)} training and {len(test)} test documents, {cases} cases, "
        f"{nodes} nodes; model {len(blob) / 1e6:.1f} MB"
    )
    print(f"  top-1 case {100 * top1 / len(test):.1f} % (target ≥ 70 %)")
    print(f"  top-3 case {100 * top3 / len(test):.1f} % (target ≥ 90 %)")
    print(f"  top-1 node {100 * node1 / len(test):.1f} %")
    print(f"  training {seconds:.1f} s (target ≤ 60 s)")
    print(
        f"  one suggestion: median {1000 * statistics.median(times):.1f} ms, "
        f"p99 {1000 * times[int(len(times) * 0.99)]:.1f} ms (target ≤ 50 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--nodes", type=int, default=60)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    metadata_bench(args.letters)
    filing_bench(args.documents, args.cases, args.nodes)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
