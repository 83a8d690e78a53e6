"""Where does a document belong? A tenant's filing classifier (issue 18), local.

Trained on the tenant's filed documents: TF-IDF over words (German text, lower-cased, accents
kept) and a linear model (one weight vector per case: its documents' normalised centroid), plus
the references seen in each case's documents ("Ihr Zeichen", "Kassenzeichen", "Aktenzeichen")
for exact matches. Optionally a second linear model learns document types from documents
that have one.

The model is stored in the database as eAkte's own format (``dump``/``load``): a JSON header
(vocabulary, classes, references) and NumPy arrays (``allow_pickle=False``), so loading it
never runs code. Weights below a small fraction of a class's largest are dropped: the model
stays a few megabytes for 300 cases, and a suggestion is one sparse product.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

FORMAT = "eakte-filing-1"
MAX_FEATURES = 60_000
MIN_DF = 2
KEEP_WEIGHT = 0.02  # weights below this share of a class's largest are dropped
MIN_DOCUMENTS = 2  # cases with fewer filed documents are left out of the model
REFERENCE = re.compile(
    r"(?:ihr(?:e)?\s+zeichen|ihr\s+az\.?|unser\s+zeichen|aktenzeichen|az\.|kassenzeichen|"
    r"kundennummer|vertragsnummer|steuernummer)\s*:?\s*(?P<ref>[A-Za-z0-9][A-Za-z0-9./-]{3,40})",
    re.IGNORECASE,
)
# words of letters only: numbers say little across cases
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"  # noqa: S105 (a regular expression)


def references(text: str) -> set[str]:
    """The references a text quotes (normalised: no trailing punctuation, upper-cased)."""
    return {m.group("ref").rstrip(".-/").upper() for m in REFERENCE.finditer(text)}


@dataclass
class Model:
    vocabulary: dict[str, int]
    idf: np.ndarray
    classes: np.ndarray  # case ids
    weights: sparse.csr_matrix  # features × classes
    intercept: np.ndarray
    refs: dict[str, int] = field(default_factory=dict)  # reference → case id (unique ones)
    types: list[str] = field(default_factory=list)
    type_weights: sparse.csr_matrix | None = None
    type_intercept: np.ndarray | None = None
    documents: int = 0
    seconds: float = 0.0

    _vectorizer: object | None = None

    def vector(self, text: str) -> sparse.csr_matrix:
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vectorizer = TfidfVectorizer(
                token_pattern=TOKEN_PATTERN,
                sublinear_tf=True,
                vocabulary=self.vocabulary,
                dtype=np.float32,
            )
            vectorizer.idf_ = self.idf
            self._vectorizer = vectorizer
        return self._vectorizer.transform([text])  # type: ignore[attr-defined]

    def rank(
        self, text: str, allowed: Iterable[int] | None = None, top: int = 3
    ) -> list[tuple[int, float]]:
        """The ``top`` cases by score, among ``allowed`` case ids (all when None)."""
        scores = np.asarray((self.vector(text) @ self.weights).todense()).ravel() + self.intercept
        order = np.argsort(-scores)
        wanted = None if allowed is None else set(allowed)
        found: list[tuple[int, float]] = []
        for index in order:
            case_id = int(self.classes[index])
            if wanted is None or case_id in wanted:
                found.append((case_id, float(scores[index])))
                if len(found) == top:
                    break
        return found

    def doc_type(self, text: str) -> str:
        if self.type_weights is None or self.type_intercept is None or not self.types:
            return ""
        scores = (
            np.asarray((self.vector(text) @ self.type_weights).todense()).ravel()
            + self.type_intercept
        )
        return self.types[int(np.argmax(scores))]


def _linear(matrix, labels: Sequence[int | str]):
    """One weight vector per class: the L2-normalised centroid of its documents' TF-IDF
    vectors (Rocchio), so a score is the cosine between document and class. As accurate as
    a hinge-loss SGD model on filed letters and a thousand times faster to train
    (bench/suggest_bench.py: 0.1 s against 72 s for 18,000 documents in 300 cases), which
    lets the worker retrain after every batch of filings."""
    from sklearn.preprocessing import normalize

    classes = np.array(sorted(set(labels)), dtype=object)
    index = {label: i for i, label in enumerate(classes)}
    rows = np.array([index[label] for label in labels])
    members = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))),
        shape=(len(classes), len(rows)),
    )
    centroids = sparse.csr_matrix(normalize(members @ matrix), dtype=np.float32)
    largest = np.asarray(abs(centroids).max(axis=1).todense()).ravel()
    floors = np.repeat(largest * KEEP_WEIGHT, np.diff(centroids.indptr))
    centroids.data[np.abs(centroids.data) < floors] = 0.0
    centroids.eliminate_zeros()
    return classes, centroids.T.tocsr(), np.zeros(len(classes), dtype=np.float32)


def train(
    texts: Sequence[str], cases: Sequence[int], doc_types: Sequence[str] | None = None
) -> Model | None:
    """A model from filed documents; ``None`` when fewer than two cases have enough."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    started = time.perf_counter()
    counts: dict[int, int] = {}
    for case_id in cases:
        counts[case_id] = counts.get(case_id, 0) + 1
    keep = [i for i, c in enumerate(cases) if counts[c] >= MIN_DOCUMENTS]
    if len({cases[i] for i in keep}) < 2:
        return None
    vectorizer = TfidfVectorizer(
        token_pattern=TOKEN_PATTERN,
        sublinear_tf=True,
        min_df=MIN_DF,
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform([texts[i] for i in keep])
    classes, weights, intercept = _linear(matrix, [cases[i] for i in keep])
    seen: dict[str, set[int]] = {}
    for text, case_id in zip(texts, cases, strict=True):
        for ref in references(text):
            seen.setdefault(ref, set()).add(case_id)
    model = Model(
        vocabulary={k: int(v) for k, v in vectorizer.vocabulary_.items()},
        idf=vectorizer.idf_.astype(np.float32),
        classes=np.asarray(classes.tolist(), dtype=np.int64),
        weights=weights,
        intercept=intercept,
        refs={ref: next(iter(ids)) for ref, ids in seen.items() if len(ids) == 1},
        documents=len(texts),
    )
    if doc_types is not None:
        typed = [k for k, i in enumerate(keep) if doc_types[i]]
        names = {doc_types[keep[k]] for k in typed}
        if len(names) >= 2:
            labels, model.type_weights, model.type_intercept = _linear(
                matrix[typed], [doc_types[keep[k]] for k in typed]
            )
            model.types = [str(x) for x in labels]
    model.seconds = time.perf_counter() - started
    return model


def dump(model: Model) -> bytes:
    header = {
        "format": FORMAT,
        "vocabulary": model.vocabulary,
        "refs": model.refs,
        "types": model.types,
        "documents": model.documents,
    }
    arrays = {
        "idf": model.idf,
        "classes": model.classes,
        "intercept": model.intercept,
        "w_data": model.weights.data,
        "w_indices": model.weights.indices,
        "w_indptr": model.weights.indptr,
        "w_shape": np.asarray(model.weights.shape),
    }
    if model.type_weights is not None and model.type_intercept is not None:
        arrays |= {
            "t_data": model.type_weights.data,
            "t_indices": model.type_weights.indices,
            "t_indptr": model.type_weights.indptr,
            "t_shape": np.asarray(model.type_weights.shape),
            "t_intercept": model.type_intercept,
        }
    out = io.BytesIO()
    np.savez_compressed(out, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return out.getvalue()


def load(blob: bytes) -> Model:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        header = json.loads(bytes(data["header"]).decode())
        if header.get("format") != FORMAT:
            raise ValueError(f"not a filing model of format {FORMAT}")

        def matrix(prefix: str) -> sparse.csr_matrix:
            shape = tuple(int(v) for v in data[f"{prefix}_shape"])
            return sparse.csr_matrix(
                (data[f"{prefix}_data"], data[f"{prefix}_indices"], data[f"{prefix}_indptr"]),
                shape=shape,
            )

        typed = "t_data" in data.files
        return Model(
            vocabulary=header["vocabulary"],
            idf=data["idf"],
            classes=data["classes"],
            weights=matrix("w"),
            intercept=data["intercept"],
            refs=header["refs"],
            types=header["types"],
            type_weights=matrix("t") if typed else None,
            type_intercept=data["t_intercept"] if typed else None,
            documents=header["documents"],
        )
