"""Search benchmark (issue 5): a seeded German corpus, a full rebuild and a fixed query mix.

    python bench/search_bench.py                # 100,000 documents (the figures of the issue)
    python bench/search_bench.py --docs 10000   # a quicker look
    python bench/search_bench.py --backend postgresql   # the PostgreSQL backend (issue 8)

``--backend postgresql`` runs the same corpus and the same 200 queries against the PostgreSQL
full-text backend, in a database of its own (created, and dropped afterwards, on the server of
``--database-url``/``EAKTE_BENCH_DATABASE_URL``, default postgresql://postgres@127.0.0.1:5432/),
and prints the rebuild rate and the query latencies; the SQLite and worker figures are the
Whoosh backend's and are left out.

Figures printed: full rebuild documents/s and peak memory (the rebuild runs in a child process
of its own, so its peak resident memory is its own), index size per document, query latency
p50/p95 over 200 queries (single common and rare words, phrases, prefixes, file-plan filters,
date ranges, facet selections, a unit-scoped clerk), the DB-backed reindex rate on a smaller
set, and the upload-to-searchable latency with a real ``eakte worker``. The corpus is a Zipf
distribution over municipal vocabulary: the same seed gives the same documents and queries.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexing.backend import WhooshIndex
from indexing.core import SearchRequest
from indexing.errors import SearchQueryInvalid
from indexing.query import Access, Reach
from indexing.schema import CASE, CLOSED, DOCUMENT, INBOX, OPEN, IndexEntry
from indexing.search import Searcher
from indexing.store import IndexStore

# --- corpus -----------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = _words(
    """der die und in den von zu das mit sich des auf für ist im dem nicht ein die
eine als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über
einen so zum war haben nur oder aber vor zur bis mehr durch man sowie gemäß hiermit bitte wir
Ihnen Sie Ihr Ihre unter wegen innerhalb nach ohne gegen seit vom beim dieser diese dieses"""
)

NOUNS = _words(
    """Antrag Bescheid Gebühr Genehmigung Baugenehmigung Bauantrag Bebauungsplan Grundstück
Flurstück Gemarkung Eigentümer Eigentümerin Hundesteuer Hundehaltung Gewerbeanmeldung
Gewerbeabmeldung Gewerbeuntersagung Gaststättenerlaubnis Sondernutzung Straßenreinigung
Abfallgebühr Abwassergebühr Grundsteuer Gewerbesteuer Widerspruch Anhörung Ordnungswidrigkeit
Bußgeld Verwarnung Meldebescheinigung Personalausweis Reisepass Führungszeugnis Geburtsurkunde
Sterbeurkunde Eheschließung Standesamt Ordnungsamt Bauamt Bürgeramt Kämmerei Stadtkasse
Vollstreckung Mahnung Zahlungserinnerung Ratenzahlung Stundung Erlass Satzung Verordnung
Ratsbeschluss Ausschuss Sitzung Niederschrift Protokoll Vermerk Stellungnahme Gutachten Lageplan
Bauzeichnung Statik Brandschutz Denkmalschutz Baulast Abstandsfläche Nutzungsänderung Abbruch
Baustelle Bauaufsicht Prüfung Frist Zustellung Rechtsbehelfsbelehrung Verwaltungsgericht Klage
Vollmacht Akteneinsicht Datenschutz Auskunft Löschung Berichtigung Einwohner Bürgerin Bürger
Antragsteller Antragstellerin Sachbearbeiter Sachbearbeiterin Fahrzeug Parkausweis
Anwohnerparken Straßensperrung Veranstaltung Markt Plakatierung Lärmschutz Ruhestörung Fundsache
Unterkunft Wohngeld Kindertagesstätte Elternbeitrag Schule Schülerbeförderung Friedhof Grabstätte
Nutzungsrecht Feuerwehr Einsatz Rettungsdienst Wasserversorgung Kanal Anschluss Beitrag
Erschließung Vermessung Kataster Gebäude Wohnung Miete Nachweis Unterlagen Anlage Formular
Unterschrift Datum Aktenzeichen Schreiben Mitteilung Entscheidung Begründung Zahlung Betrag Euro
Konto Überweisung Rechnung Quittung Termin Rückfrage Ergänzung Änderung Verlängerung Befreiung
Ermäßigung Zuschuss Förderung Vertrag Kündigung Verfahren Behörde Landratsamt Regierungspräsidium
Gemeinde Stadt Stadtrat Bürgermeister Bürgermeisterin Verwaltung Abteilung Sachgebiet Amt"""
)

ADJECTIVES = _words(
    """beantragt genehmigt abgelehnt eingegangen geprüft festgesetzt erhoben fällig
zuständig erforderlich vollständig unvollständig beigefügt mitgeteilt übersandt nachzureichen
befristet unbefristet gebührenpflichtig gebührenfrei rechtskräftig vorläufig endgültig
zulässig unzulässig begründet unbegründet öffentlich schriftlich mündlich fristgerecht
verspätet anhängig erledigt offen zurückgestellt"""
)

PREFIXES = _words(
    """Bau Gewerbe Hunde Abfall Wasser Grund Straßen Park Markt Schul Kinder Friedhofs
Feuerwehr Verkehrs Umwelt Sozial Wohn Miet Steuer Gebühren Melde Pass Ausweis Fund Lärm Denkmal
Brand Vermessungs Erschließungs Sondernutzungs Gaststätten Jugend Sport Kultur Grünflächen
Spielplatz Friedhofs Bestattungs Ordnungs Sicherheits Haushalts Personal Vergabe Beschaffungs
Liegenschafts Kanal Abwasser Energie Wärme Strom Wald Jagd Fischerei Tier Veterinär Lebensmittel
Gesundheits Hygiene Schornstein Heizungs Solar Photovoltaik Dach Fassaden Fenster Garagen
Stellplatz Zufahrt Zaun Werbe Baum Hecken Winterdienst Streu Reinigungs"""
)

HEADS = _words(
    """antrag anträge bescheid bescheide gebühr gebühren satzung amt stelle verfahren akte
vorgang nachweis bescheinigung erlaubnis genehmigung genehmigungen prüfung frist pflicht recht
ordnung verordnung plan pläne fläche flächen anlage anlagen kosten beitrag beiträge zuschuss
vertrag verträge konzept bericht berichte liste register kasse behörde aufsicht schutz
versicherung vorschrift vorschriften richtlinie anordnung auflage auflagen verzeichnis
angelegenheit angelegenheiten maßnahme maßnahmen"""
)

FIRST_NAMES = _words(
    """Anna Peter Maria Thomas Sabine Michael Ursula Andreas Monika Stefan Petra Klaus
Jürgen Helga Wolfgang Brigitte Frank Karin Markus Claudia Jörg Birgit Uwe Gabriele Sven Renate
Özlem Mehmet Katarzyna Jan Lena Lukas Sophie Jonas Marie Felix"""
)
SURNAMES = _words(
    """Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer
Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann
Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König
Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich
Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon
Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel
Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch
Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Yılmaz Kowalski Nowak"""
)
STREETS = _words(
    """Hauptstraße Schulstraße Gartenstraße Bahnhofstraße Dorfstraße Bergstraße Birkenweg
Lindenstraße Kirchstraße Waldstraße Ringstraße Schillerstraße Goethestraße Mühlenweg Am Markt
Rathausplatz Friedhofsweg Industriestraße Gewerbepark Lessingstraße"""
)

DOC_TYPES = ["Antrag", "Bescheid", "Schreiben", "Rechnung", "Widerspruch", "Protokoll",
             "Vermerk", "Gutachten", "Mahnung", "Vertrag"]  # fmt: skip
# A municipal file plan: (code, title, org unit) with unit codes as in the test world.
PLAN = [
    ("10.01", "Organisation", "10"),
    ("10.02", "Personal", "10"),
    ("20.10", "Haushalt", "20"),
    ("20.20", "Stadtkasse", "20"),
    ("20.30", "Steuern und Abgaben", "20"),
    ("32.10.01", "Gewerbeanmeldungen", "32"),
    ("32.10.05", "Gewerbeuntersagungen", "32"),
    ("32.20", "Hundesteuer und Hundehaltung", "32.2"),
    ("32.30", "Ordnungswidrigkeiten", "32"),
    ("32.40", "Veranstaltungen", "32"),
    ("33.10", "Meldewesen", "33"),
    ("34.10", "Standesamt", "34"),
    ("60.01", "Baugenehmigungen", "60"),
    ("60.02", "Bauaufsicht", "60"),
    ("60.10", "Bebauungspläne", "60"),
    ("66.10", "Straßen und Wege", "66"),
    ("66.20", "Abwasser", "66"),
    ("70.10", "Abfallwirtschaft", "70"),
]
UNITS = sorted({unit for _, _, unit in PLAN})
RESTRICTED_SHARE = 0.02
INBOX_SHARE = 0.08
ZIPF_EXPONENT = 1.05
FIRST_DAY = date(2012, 1, 1)
DAYS = (date(2025, 12, 31) - FIRST_DAY).days


def vocabulary(rng: random.Random, size: int = 60_000) -> list[str]:
    """Word types in rank order: function words first, then the municipal core vocabulary,
    then compounds (Gebührenbescheid, Hundesteuerantrag, ...) spread over the long tail among
    names, places and OCR noise (pseudo-words) — as in real text, most compounds are rare."""
    words = list(dict.fromkeys(FUNCTION_WORDS))
    core = NOUNS + ADJECTIVES + SURNAMES + STREETS
    rng.shuffle(core)
    words += [w for w in dict.fromkeys(core) if w not in words]
    seen = set(words)
    tail = [
        w for w in sorted({(p + h).capitalize() for p in PREFIXES for h in HEADS}) if w not in seen
    ]
    seen.update(tail)
    syllables = _words("ber bach dorf feld hau sen kro mel lin wald stein horn rod tal hof mar gen")
    while len(words) + len(tail) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        if rng.random() < 0.3:
            word += rng.choice(["straße", "weg", "platz", "er", "ung", "heim"])
        if word not in seen:
            seen.add(word)
            tail.append(word)
    rng.shuffle(tail)
    return words + tail


class Corpus:
    """The seeded corpus: ``entries()`` yields the same documents for the same seed."""

    def __init__(self, docs: int, seed: int = 5):
        self.docs = docs
        self.seed = seed
        rng = random.Random(seed)
        self.words = vocabulary(rng)
        weights = [1 / (rank**ZIPF_EXPONENT) for rank in range(1, len(self.words) + 1)]
        self.cum_weights = list(itertools.accumulate(weights))
        self.cases = max(1, docs // 8)

    def word_rank(self, word: str) -> int:
        return self.words.index(word)

    def text(self, rng: random.Random, n: int) -> str:
        words = rng.choices(self.words, cum_weights=self.cum_weights, k=n)
        # Sentences of 8-20 words, with a street address or an amount now and then.
        out, i = [], 0
        while i < n:
            step = rng.randint(8, 20)
            out.append(" ".join(words[i : i + step]) + ".")
            if rng.random() < 0.05:
                out.append(f"{rng.choice(STREETS)} {rng.randint(1, 120)},")
            if rng.random() < 0.05:
                out.append(f"Betrag {rng.randint(5, 5000)},{rng.randint(0, 99):02d} Euro.")
            i += step
        return " ".join(out)

    def case(self, case_no: int) -> tuple[str, str, str, date]:
        """(plan code, org unit code, file reference, opened) of one case."""
        rng = random.Random(self.seed * 1_000_003 + case_no)
        code, _, unit = PLAN[rng.randrange(len(PLAN))]
        opened = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        return code, unit, f"{code}-{case_no:04d}/{opened.year}", opened

    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[IndexEntry]:
        stop = self.docs if stop is None else stop
        for n in range(start, stop):
            yield self.document(n)
        # Cases after their documents; a case is an entry of its own.
        if stop == self.docs:
            for case_no in range(self.cases):
                yield self.case_entry(case_no)

    def document(self, n: int) -> IndexEntry:
        rng = random.Random(self.seed * 7_919 + n)
        length = rng.randint(100, 2000)
        content = self.text(rng, length)
        person = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        doc_type = rng.choice(DOC_TYPES)
        subject = rng.choices(self.words[60:2000], k=2)
        received = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        restricted = rng.random() < RESTRICTED_SHARE
        if rng.random() < INBOX_SHARE:
            unit = UNITS[rng.randrange(len(UNITS))]
            return IndexEntry(
                key=f"d{n}",
                kind=DOCUMENT,
                tenant_id=1,
                title=f"{doc_type} {' '.join(subject)} {person}",
                org_unit_id=UNITS.index(unit) + 1,
                inbox=True,
                restricted=restricted,
                content=content,
                correspondent=person,
                doc_type=doc_type,
                status=INBOX,
                received=received,
                created=received,
            )
        case_no = rng.randrange(self.cases)
        code, unit, reference, opened = self.case(case_no)
        return IndexEntry(
            key=f"d{n}",
            kind=DOCUMENT,
            tenant_id=1,
            title=f"{doc_type} {' '.join(subject)} {person}",
            org_unit_id=UNITS.index(unit) + 1,
            restricted=restricted,
            content=content,
            correspondent=person,
            doc_type=doc_type,
            file_reference=reference,
            plan_code=code,
            case_id=case_no,
            process_id=case_no * 3 + rng.randrange(3),
            status=CLOSED if opened.year < 2020 else OPEN,
            received=received,
            created=received,
            closed=date(opened.year + 1, 6, 30) if opened.year < 2020 else None,
        )

    def case_entry(self, case_no: int) -> IndexEntry:
        rng = random.Random(self.seed * 104_729 + case_no)
        code, unit, reference, opened = self.case(case_no)
        title = f"{rng.choice(NOUNS)} {rng.choice(SURNAMES)} {rng.choice(STREETS)}"
        return IndexEntry(
            key=f"c{case_no}",
            kind=CASE,
            tenant_id=1,
            title=title,
            org_unit_id=UNITS.index(unit) + 1,
            restricted=rng.random() < RESTRICTED_SHARE,
            content=f"{title} {self.text(rng, 30)}",
            file_reference=reference,
            plan_code=code,
            case_id=case_no,
            status=CLOSED if opened.year < 2020 else OPEN,
            created=opened,
            closed=date(opened.year + 1, 6, 30) if opened.year < 2020 else None,
        )


# --- the query mix ------------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    """One plausible typing error inside the word (never in its first letter)."""
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1 :]  # a letter left out
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped


def query_mix(corpus: Corpus, seed: int, officer: Access, clerk: Access) -> list[tuple]:
    """200 searches as people make them: (category, SearchRequest), in a fixed order."""
    rng = random.Random(seed)
    stop = set(FUNCTION_WORDS)
    common = [w for w in corpus.words[60:500] if w not in stop and len(w) > 4]
    middle = [w for w in corpus.words[500:5000] if len(w) > 4]
    rare = corpus.words[20_000:]
    compounds = [w for w in corpus.words[300:5000] if len(w) > 9]
    plan_codes = sorted({code.rsplit(".", 1)[0] for code, _, _ in PLAN} | {c for c, _, _ in PLAN})
    mix: list[tuple] = []

    def add(category: str, text: str, access: Access = officer, **kw) -> None:
        mix.append((category, SearchRequest(text, access, **kw)))

    for _ in range(40):
        add("common word", rng.choice(common))
    for _ in range(25):
        add("rare word", rng.choice(rare))
    for _ in range(10):
        add("typo", _typo(rng, rng.choice(common + middle)))
    for _ in range(20):
        add("all words", " ".join(rng.sample(common + middle, rng.randint(2, 3))))
    for _ in range(20):
        words = [w for w in corpus.document(rng.randrange(corpus.docs)).content.split()[:80]]
        words = [w.strip(".,") for w in words if w.strip(".,") not in stop]
        i = rng.randrange(len(words) - 2)
        add("phrase", f'"{words[i]} {words[i + 1]}"')
    for _ in range(15):
        word = rng.choice(compounds)
        add("prefix", word[: rng.randint(5, 8)] + "*")
    for _ in range(20):
        code = rng.choice(plan_codes)
        if rng.random() < 0.5:
            add("file plan", code)
        else:
            add("file plan", f"aktenplan:{code} AND {rng.choice(common)}", advanced=True)
    for _ in range(20):
        year = rng.randint(2012, 2025)
        if rng.random() < 0.5:
            add("date range", f"eingang:{year} {rng.choice(common)}", advanced=True)
        else:
            end = min(2025, year + rng.randint(0, 3))
            text = f"eingang:[{year}-{rng.randint(1, 12):02d} to {end}] {rng.choice(common)}"
            add("date range", text, advanced=True)
    for _ in range(15):
        filters = [("doctype", rng.choice(DOC_TYPES)), ("year", str(rng.randint(2012, 2025)))]
        if rng.random() < 0.5:
            filters.append(("node", rng.choice(plan_codes)))
        add("facet selection", rng.choice(common), filters=tuple(filters))
    for _ in range(15):
        text = " ".join(rng.sample(common + middle, rng.randint(1, 2)))
        add("restricted user", text, access=clerk)
    return mix


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# --- measuring ---------------------------------------------------------------------------------


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def write_corpus(corpus: Corpus, path: Path) -> None:
    """The corpus on disk (compressed chunks), so that the rebuild reads it like rows from a
    database instead of paying for generating it."""
    with path.open("wb") as out:
        chunk: list[IndexEntry] = []
        for entry in corpus.entries():
            chunk.append(entry)
            if len(chunk) == 500:
                pickle.dump(zlib.compress(pickle.dumps(chunk), 1), out)
                chunk = []
        pickle.dump(zlib.compress(pickle.dumps(chunk), 1), out)


def read_corpus(path: Path) -> Iterator[IndexEntry]:
    with path.open("rb") as source:  # written by this benchmark just before
        while True:
            try:
                chunk = zlib.decompress(pickle.load(source))  # noqa: S301
            except EOFError:
                return
            yield from pickle.loads(chunk)  # noqa: S301


def open_index(where: str):
    """The index a benchmark run measures: a Whoosh directory, or a PostgreSQL URL."""
    if where.startswith("postgresql"):
        from sqlalchemy import create_engine

        from indexing.pg import PgIndex

        return PgIndex(create_engine(where))
    return WhooshIndex(where)


def _rebuild_child(path: str, corpus_file: str, workers: int) -> None:
    """Run in a process of its own: the full rebuild, so that its memory is its own."""
    store = open_index(path)
    started = time.perf_counter()
    count = store.rebuild(read_corpus(Path(corpus_file)), workers=workers)
    seconds = time.perf_counter() - started
    # CPU time of this process and its (joined) build processes: on a shared machine the
    # wall-clock rate says as much about the neighbours as about the indexer.
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF),
                      resource.getrusage(resource.RUSAGE_CHILDREN))
    )  # fmt: skip
    print(json.dumps({"entries": count, "seconds": seconds, "cpu": cpu}))


def measure_rebuild(path: Path | str, corpus_file: Path, workers: int) -> dict:
    args = [sys.executable, __file__, "--rebuild-child", str(path)]
    args += ["--corpus-file", str(corpus_file), "--workers", str(workers)]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_mb(child.pid))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    stop.set()
    sampler.join()
    if child.returncode:
        raise SystemExit(f"the rebuild failed (exit code {child.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    if isinstance(path, Path):
        size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    else:
        from sqlalchemy import text

        with open_index(path).engine.connect() as conn:
            size = conn.scalar(
                text(
                    "SELECT pg_total_relation_size('search_entry') + "
                    "pg_total_relation_size('search_doc') + pg_total_relation_size('search_word')"
                )
            )
    result.update(peak_mb=peak, size=size)
    return result


def measure_queries(path: Path | str, corpus: Corpus, seed: int) -> dict[str, list[float]]:
    officer = Access(1, (Reach(None),), restricted=True)
    clerk = Access(1, (Reach(frozenset({UNITS.index("32") + 1, UNITS.index("32.2") + 1})),))
    searcher = Searcher(IndexStore(path)) if isinstance(path, Path) else open_index(path)
    # A web process is warm: open the index and read its columns once before measuring.
    for _category, request in query_mix(corpus, seed + 1, officer, clerk)[::10]:
        searcher.search(request)
    timings: dict[str, list[float]] = {}
    for category, request in query_mix(corpus, seed, officer, clerk):
        started = time.perf_counter()
        try:
            searcher.search(request)
        except SearchQueryInvalid as exc:
            print(f"  query {request.text!r} refused: {exc.user_message}")
        timings.setdefault(category, []).append((time.perf_counter() - started) * 1000)
    return timings


# --- the database-backed indexer ------------------------------------------------------------------


def seed_database(engine, corpus: Corpus) -> None:
    """The corpus as rows: tenant, org units, file plan, cases, processes, documents."""
    from hashlib import sha256

    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from eakte.models import Case, Document, FilePlanNode, OrgUnit, Process, RetentionSchedule
    from eakte.services.accounts import ensure_default_tenant

    with Session(engine) as s:
        tenant = ensure_default_tenant(s)
        with s.begin():
            units = {}
            for code in UNITS:
                units[code] = OrgUnit(tenant_id=tenant.id, code=code, name=f"Amt {code}")
                s.add(units[code])
            schedule = RetentionSchedule(
                tenant_id=tenant.id, name="10 Jahre", period_years=10, action="V"
            )
            s.add(schedule)
            s.flush()
            nodes = {}
            for code, title, unit in PLAN:
                nodes[code] = FilePlanNode(
                    tenant_id=tenant.id,
                    code=code,
                    title=title,
                    org_unit_id=units[unit].id,
                    schedule_id=schedule.id,
                )
                s.add(nodes[code])
            s.flush()
            case_ids, process_ids = {}, {}
            for case_no in range(corpus.cases):
                entry = corpus.case_entry(case_no)
                case = Case(
                    tenant_id=tenant.id,
                    node_id=nodes[entry.plan_code].id,
                    org_unit_id=units[UNITS[entry.org_unit_id - 1]].id,
                    file_reference=entry.file_reference,
                    title=entry.title,
                    status=entry.status,
                    closed_at=entry.closed,
                    schedule_id=schedule.id,
                    restricted=entry.restricted,
                )
                s.add(case)
                s.flush()
                case_ids[case_no] = case.id
                for number in range(3):
                    process = Process(
                        tenant_id=tenant.id, case_id=case.id, number=number + 1, title="Vorgang"
                    )
                    s.add(process)
                    s.flush()
                    process_ids[case_no * 3 + number] = process.id
            rows = []
            for n in range(corpus.docs):
                entry = corpus.document(n)
                rows.append(
                    {
                        "tenant_id": tenant.id,
                        "process_id": None if entry.inbox else process_ids[entry.process_id],
                        "inbox_org_unit_id": (
                            units[UNITS[entry.org_unit_id - 1]].id if entry.inbox else None
                        ),
                        "title": entry.title,
                        "doc_type": entry.doc_type,
                        "correspondent": entry.correspondent,
                        "received_date": entry.received,
                        "status": "ready",
                        "extracted_text": entry.content,
                        "sha256": sha256(entry.key.encode()).hexdigest(),
                        "restricted": entry.restricted,
                    }
                )
                if len(rows) == 1000:
                    s.execute(insert(Document), rows)
                    rows = []
            if rows:
                s.execute(insert(Document), rows)


def measure_database_reindex(work: Path, docs: int, seed: int) -> dict:
    from sqlalchemy import update

    from eakte import schema
    from eakte.config import S3Settings, Settings
    from eakte.db import make_engine, make_session_factory
    from eakte.models import Document
    from eakte.runtime import Runtime, wire_ports
    from eakte.services.indexer import index_pending, reindex

    settings = Settings(
        data_dir=work, database_url=f"sqlite:///{work / 'eakte.db'}", s3=S3Settings()
    )
    work.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    corpus = Corpus(docs, seed)
    seed_database(engine, corpus)
    rt = wire_ports(Runtime(settings, engine, make_session_factory(engine)))
    started = time.perf_counter()
    count = reindex(rt)
    full = time.perf_counter() - started
    with rt.session() as s, s.begin():  # a bulk import's worth of changed documents
        s.execute(update(Document).where(Document.id <= 1000).values(index_dirty=True))
    started = time.perf_counter()
    changed = index_pending(rt)
    incremental = time.perf_counter() - started
    engine.dispose()
    return {"entries": count, "full": full, "changed": changed, "incremental": incremental}


# --- upload to searchable, with a real worker --------------------------------------------------


def measure_upload_latency(work: Path, steady: int, idle: int, idle_gap: float) -> dict:
    """Upload born-digital PDFs through the intake service (as the web upload does) while an
    ``eakte worker`` runs; time from "accepted" until the search finds the document."""
    from fpdf import FPDF

    from storage.embedded import EmbeddedSeaweedFS

    work.mkdir(parents=True, exist_ok=True)
    env = {
        "EAKTE_DATA_DIR": str(work),
        "EAKTE_DATABASE_URL": f"sqlite:///{work / 'eakte.db'}",
        "EAKTE_LOG_LEVEL": "WARNING",
        "EAKTE_SECRET_KEY": "bench",
    }
    os.environ.update(env)  # for the worker process below
    server = EmbeddedSeaweedFS(work).start()
    worker = None
    try:
        from eakte import schema
        from eakte.config import Settings
        from eakte.db import make_engine, make_session_factory
        from eakte.models import Role
        from eakte.runtime import Runtime, wire_ports
        from eakte.services import accounts
        from eakte.services import search as search_service
        from eakte.services.indexer import index_pending
        from eakte.services.intake import DocumentMetadata, IncomingFile, Target, intake

        settings = Settings.from_env()
        engine = make_engine(settings.database_url)
        schema.upgrade(engine)
        store = server.blobstore(settings.s3.bucket)
        store.ensure_bucket(create=True)
        rt = wire_ports(Runtime(settings, engine, make_session_factory(engine), store))
        with rt.session() as s:
            tenant = accounts.ensure_default_tenant(s)
            admin = accounts.create_user(s, tenant, "admin", "bench password 1", {Role.admin})
            accounts.add_org_unit(s, admin, "32", "Ordnungsamt")
            accounts.create_user(
                s, tenant, "sachb", "bench password 1", {Role.clerk}, org_unit_code="32"
            )
        index_pending(rt)
        worker = subprocess.Popen(
            [sys.executable, "-m", "eakte", "worker"],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def upload(n: int) -> float:
            word = f"Zeppelinhalle{n:04d}x"
            pdf = FPDF()
            pdf.add_page()
            pdf.set_font("helvetica", size=12)
            pdf.multi_cell(0, 8, f"Antrag auf Sondernutzung {word}. " * 20)
            with rt.session() as s:
                clerk = accounts.find_user(s, accounts.get_tenant(s, "default"), "sachb")
                accepted = intake(
                    s,
                    clerk,
                    store,
                    IncomingFile(
                        bytes(pdf.output()),
                        f"antrag-{n}.pdf",
                        metadata=DocumentMetadata(title=f"Antrag {n}"),
                        target=Target(org_unit="32"),
                    ),
                    settings=settings,
                    enqueue=rt.jobs.enqueue,
                )
                started = time.perf_counter()
                assert accepted.accepted, accepted.reason
                key = f"d{accepted.document.id}"
                while True:
                    found = search_service.search(s, clerk, rt.search, word, facets=False)
                    if not found.fuzzy and key in {hit.key for hit in found.hits}:
                        return time.perf_counter() - started
                    if time.perf_counter() - started > 120:
                        raise SystemExit("a document did not become searchable in 120 s")
                    time.sleep(0.02)

        upload(0)  # the worker has started and attached to the object store
        rng = random.Random(7)
        steady_times = []
        for n in range(1, steady + 1):
            time.sleep(rng.uniform(0.5, 3.0))
            steady_times.append(upload(n))
        idle_times = []
        for n in range(steady + 1, steady + idle + 1):
            time.sleep(idle_gap)
            idle_times.append(upload(n))
        return {"steady": steady_times, "idle": idle_times}
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        server.stop()


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="documents in the corpus")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workers", type=int, default=0, help="build processes (0: per CPU)")
    parser.add_argument("--db-docs", type=int, default=6000, help="documents for the DB reindex")
    parser.add_argument("--uploads", type=int, default=20, help="uploads 0.5-3 s apart")
    parser.add_argument("--idle-uploads", type=int, default=4, help="uploads after idling")
    parser.add_argument("--idle-gap", type=float, default=20.0, help="seconds idle before each")
    parser.add_argument("--skip-db", action="store_true", help="skip the DB-backed figures")
    parser.add_argument("--skip-worker", action="store_true", help="skip the upload latency")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--backend", choices=("whoosh", "postgresql"), default="whoosh")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EAKTE_BENCH_DATABASE_URL", PG_SERVER),
        help="PostgreSQL server for --backend postgresql (a database is created on it)",
    )
    parser.add_argument("--rebuild-child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rebuild_child:
        _rebuild_child(args.rebuild_child, args.corpus_file, args.workers)
        return
    work = args.dir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    print(f"search benchmark ({args.backend}): {args.docs} documents, seed {args.seed}; {load()}")
    database = None
    if args.backend == "postgresql":
        database = BenchDatabase(args.database_url)
        args.skip_db = args.skip_worker = True  # those figures are the Whoosh backend's
    try:
        corpus = Corpus(args.docs, args.seed)
        started = time.perf_counter()
        sample = [corpus.document(n) for n in range(min(2000, args.docs))]
        rate = len(sample) / (time.perf_counter() - started)
        words = sum(len(e.content.split()) for e in sample) / len(sample)
        print(
            f"corpus: {len(corpus.words)} word types (Zipf s={ZIPF_EXPONENT}), "
            f"{words:.0f} words per document on average; generated at {rate:.0f} docs/s"
        )

        corpus_file = work / "corpus.bin"
        started = time.perf_counter()
        write_corpus(corpus, corpus_file)
        print(
            f"corpus written in {time.perf_counter() - started:.0f} s "
            f"({corpus_file.stat().st_size / 2**20:.0f} MB compressed); {load()}"
        )
        index: Path | str = work / "index" if database is None else database.url
        built = measure_rebuild(index, corpus_file, args.workers)
        print(
            f"full rebuild: {built['entries']} entries ({args.docs} documents + "
            f"{corpus.cases} cases) in {built['seconds']:.1f} s = "
            f"{built['entries'] / built['seconds']:.0f} entries/s "
            f"({args.docs / built['seconds']:.0f} documents/s; target >= 250), "
            f"reading the corpus included; peak memory {built['peak_mb']:.0f} MB "
            f"(all processes; target < 1024)"
            + ("; the database server's own memory not counted" if database else "")
        )
        print(
            f"  rebuild CPU time {built['cpu']:.0f} s (all processes) = "
            f"{built['entries'] / built['cpu']:.0f} entries per CPU-second"
        )
        print(
            f"index size: {built['size'] / 2**20:.0f} MB = "
            f"{built['size'] / built['entries'] / 1024:.1f} kB per entry "
            f"(with the compressed text for snippets); {load()}"
        )

        timings = measure_queries(index, corpus, args.seed)
        every = [t for values in timings.values() for t in values]
        print(
            f"queries: {len(every)}; p50 {percentile(every, 0.5):.1f} ms (target <= 50), "
            f"p95 {percentile(every, 0.95):.1f} ms "
            f"(target <= {200 if database is None else 150}), "
            f"max {max(every):.1f} ms; {load()}"
        )
        for category, values in timings.items():
            print(
                f"  {category:16} n={len(values):3}  p50 {percentile(values, 0.5):7.1f} ms  "
                f"p95 {percentile(values, 0.95):7.1f} ms"
            )

        if not args.skip_db:
            db = measure_database_reindex(work / "db", args.db_docs, args.seed)
            print(
                f"database reindex (SQLite, {args.db_docs} documents): {db['entries']} entries "
                f"in {db['full']:.1f} s = {db['entries'] / db['full']:.0f} entries/s; "
                f"{db['changed']} changed rows caught up in {db['incremental']:.1f} s = "
                f"{db['changed'] / db['incremental']:.0f} rows/s; {load()}"
            )
        if not args.skip_worker:
            latency = measure_upload_latency(
                work / "worker", args.uploads, args.idle_uploads, args.idle_gap
            )
            steady, idle = latency["steady"], latency["idle"]
            print(
                f"upload to searchable with a running worker ({len(steady)} uploads 0.5-3 s "
                f"apart): p50 {percentile(steady, 0.5):.2f} s, p95 "
                f"{percentile(steady, 0.95):.2f} s (target <= 2), max {max(steady):.2f} s"
            )
            if idle:
                print(
                    f"  after {args.idle_gap:.0f} s idle ({len(idle)} uploads): p50 "
                    f"{percentile(idle, 0.5):.2f} s, max {max(idle):.2f} s; {load()}"
                )
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
        if database is not None:
            database.drop()


PG_SERVER = "postgresql://postgres@127.0.0.1:5432/"


class BenchDatabase:
    """A fresh database on a PostgreSQL server, with the search tables; ``drop()`` removes it."""

    def __init__(self, server: str):
        import uuid

        import psycopg
        from sqlalchemy.engine import make_url

        self.name = f"search_bench_{uuid.uuid4().hex[:8]}"
        base = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
        self.admin = base.set(drivername="postgresql", database=base.database or "postgres")
        with psycopg.connect(self.admin.render_as_string(False), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = base.set(database=self.name).render_as_string(False)
        open_index(self.url).create()

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin.render_as_string(False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
