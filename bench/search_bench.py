"""Search benchmark (issue 5): a seeded German corpus, a full rebuild and a fixed query mix.

    python bench/search_bench.py                # 100,000 documents (the figures of the issue)
    python bench/search_bench.py --docs 10000   # a quicker look

Figures printed: full rebuild documents/s and peak memory (the rebuild runs in a child process
of its own, so its peak resident memory is its own), index size per document, query latency
p50/p95 over 200 queries (single common and rare words, phrases, prefixes, file-plan filters,
date ranges, facet selections, a unit-scoped clerk), the DB-backed reindex rate on a smaller
set, and the upload-to-searchable latency with a real ``eakte worker``. The corpus is a Zipf
distribution over municipal vocabulary: the same seed gives the same documents and queries.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexing.schema import CASE, CLOSED, DOCUMENT, INBOX, OPEN, IndexEntry  # noqa: E402

# --- corpus -----------------------------------------------------------------------------------

FUNCTION_WORDS = """der die und in den von zu das mit sich des auf für ist im dem nicht ein die
eine als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über
einen so zum war haben nur oder aber vor zur bis mehr durch man sowie gemäß hiermit bitte wir
Ihnen Sie Ihr Ihre unter wegen innerhalb nach ohne gegen seit vom beim dieser diese dieses""".split()

NOUNS = """Antrag Bescheid Gebühr Genehmigung Baugenehmigung Bauantrag Bebauungsplan Grundstück
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
Gemeinde Stadt Stadtrat Bürgermeister Bürgermeisterin Verwaltung Abteilung Sachgebiet Amt""".split()

ADJECTIVES = """beantragt genehmigt abgelehnt eingegangen geprüft festgesetzt erhoben fällig
zuständig erforderlich vollständig unvollständig beigefügt mitgeteilt übersandt nachzureichen
befristet unbefristet gebührenpflichtig gebührenfrei rechtskräftig vorläufig endgültig
zulässig unzulässig begründet unbegründet öffentlich schriftlich mündlich fristgerecht
verspätet anhängig erledigt offen zurückgestellt""".split()

PREFIXES = """Bau Gewerbe Hunde Abfall Wasser Grund Straßen Park Markt Schul Kinder Friedhofs
Feuerwehr Verkehrs Umwelt Sozial Wohn Miet Steuer Gebühren Melde Pass Ausweis Fund Lärm Denkmal
Brand Vermessungs Erschließungs Sondernutzungs Gaststätten Jugend Sport Kultur Grünflächen
Spielplatz Friedhofs Bestattungs Ordnungs Sicherheits Haushalts Personal Vergabe Beschaffungs
Liegenschafts Kanal Abwasser Energie Wärme Strom Wald Jagd Fischerei Tier Veterinär Lebensmittel
Gesundheits Hygiene Schornstein Heizungs Solar Photovoltaik Dach Fassaden Fenster Garagen
Stellplatz Zufahrt Zaun Werbe Baum Hecken Winterdienst Streu Reinigungs""".split()

HEADS = """antrag anträge bescheid bescheide gebühr gebühren satzung amt stelle verfahren akte
vorgang nachweis bescheinigung erlaubnis genehmigung genehmigungen prüfung frist pflicht recht
ordnung verordnung plan pläne fläche flächen anlage anlagen kosten beitrag beiträge zuschuss
vertrag verträge konzept bericht berichte liste register kasse behörde aufsicht schutz
versicherung vorschrift vorschriften richtlinie anordnung auflage auflagen verzeichnis
angelegenheit angelegenheiten maßnahme maßnahmen""".split()

FIRST_NAMES = """Anna Peter Maria Thomas Sabine Michael Ursula Andreas Monika Stefan Petra Klaus
Jürgen Helga Wolfgang Brigitte Frank Karin Markus Claudia Jörg Birgit Uwe Gabriele Sven Renate
Özlem Mehmet Katarzyna Jan Lena Lukas Sophie Jonas Marie Felix""".split()
SURNAMES = """Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer
Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann
Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König
Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich
Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon
Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel
Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch
Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Yılmaz Kowalski Nowak""".split()
STREETS = """Hauptstraße Schulstraße Gartenstraße Bahnhofstraße Dorfstraße Bergstraße Birkenweg
Lindenstraße Kirchstraße Waldstraße Ringstraße Schillerstraße Goethestraße Mühlenweg Am Markt
Rathausplatz Friedhofsweg Industriestraße Gewerbepark Lessingstraße""".split()

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
    """Word types in rank order: function words first, then municipal words, then compounds
    and names, then a long tail of rare words (pseudo-words: surnames, places, OCR noise)."""
    words = list(dict.fromkeys(FUNCTION_WORDS))
    core = NOUNS + ADJECTIVES + SURNAMES + STREETS
    rng.shuffle(core)
    compounds = sorted({p + h for p in PREFIXES for h in HEADS})
    rng.shuffle(compounds)
    words += [w for w in dict.fromkeys(core) if w not in words]
    words += [w.capitalize() for w in compounds if w.capitalize() not in words]
    syllables = "ber bach dorf feld hau sen kro mel lin wald stein horn rod tal hof mar gen".split()
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        if rng.random() < 0.3:
            word += rng.choice(["straße", "weg", "platz", "er", "ung", "heim"])
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


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
