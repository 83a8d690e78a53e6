"""Fuzzers of the web app (issue 14): hypothesis over every route's query and form parameters
as every role, and schemathesis over /api/v1 from its OpenAPI document. A response must never
be a 500 or show a traceback. Used by tests/web/test_fuzz.py (few examples) and by
bench/web_fuzz_bench.py (many); ``EAKTE_FUZZ_EXAMPLES`` sets the examples per route and role."""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing.converters import AnyConverter, IntegerConverter, UUIDConverter

from eakte.models import Role
from eakte.models.api import Scope
from eakte.services import accounts, api_tokens, cases, documents, scanning
from eakte.services.intake import IncomingFile, Target, intake
from retention import holds
from tests.fixtures.app import PASSWORD, csrf_token

# The admin last: the admin's pages lock and unlock users, and signing in is fuzzed too.
ROLES = ("registratur", "sachb", "scan", "admin")
SKIPPED_ENDPOINTS = {"static", "auth.logout"}  # signing out would end the fuzzing session
# Query parameters the views read (request.args), besides the fields of the pages' forms.
QUERY_NAMES = (
    "seite", "year", "node", "org_unit", "q", "erweitert", "sortierung", "since", "until",
    "action", "username", "object_uuid", "ablage", "vorgang", "next", "doctype", "status",
    "kind", "page", "per_page", "sort", "advanced", "tenant", "case", "process", "inbox",
)  # fmt: skip
NASTY = (
    "", "0", "-1", "1", "2", "99999999999999999999", "-99999999999999999999", "1e309", "NaN",
    "2026-02-30", "2026-12-07", "9999-12-31", "0001-01-01", "'", '"', "<script>x</script>",
    "%00", "\x00", "\u202e", "../../etc/passwd", "a" * 5000, "null", "[]", "{}", "32",
    "32.10.05", "00000000-0000-0000-0000-000000000000", "fuzzopfer", "=1+1", " ", "\r\n",
)  # fmt: skip


# Values at and beyond the edges: each is given to every parameter of every route at once.
BOUNDS = ("99999999999999999999", "-1", "2026-02-30", "\u202e=1+1")


def examples(default: int) -> int:
    return int(os.environ.get("EAKTE_FUZZ_EXAMPLES", default))


def fuzz_settings(max_examples: int) -> settings:
    """No deadline (a request may render a preview), no example database; the suite's few
    examples are the same on every run, the benchmark's are random."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize="EAKTE_FUZZ_EXAMPLES" not in os.environ,
        suppress_health_check=list(HealthCheck),
    )


def fuzz_world(world) -> dict[str, str]:
    """Real objects for the routes' path parameters: a case with a filed document, an inbox
    document, a scan batch with a quarantined file, a legal hold, a user and an API token."""
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Fuzz")
        process = cases.add_process(s, world.clerk, case.id, "Antrag")
        accounts.add_user(s, world.admin, "fuzzopfer", PASSWORD, {Role.clerk}, org_unit_code="60")
        token, _plain = api_tokens.create_token(s, world.clerk, "Fuzz", set(Scope))
    inbox = world.inbox_document("Antrag Fuzz", data=b"%PDF-1.4 fuzz inbox")
    filed = world.inbox_document("Bescheid Fuzz", data=b"%PDF-1.4 fuzz filed")
    with world.session() as s:
        documents.file_document(s, world.clerk, filed.id, process.id)
        version = documents.get_document(s, world.clerk, filed.id).versions[0]
        batch = scanning.open_batch(s, world.scanner, "Fuzz-Stapel", org_unit="32")
        entry = intake(
            s,
            world.scanner,
            world.rt.store,
            IncomingFile(
                b"MZ" + b"\0" * 64, "fuzz.exe", target=Target(org_unit="32"), scan_batch_id=batch.id
            ),
            settings=world.rt.settings,
        ).quarantined
        hold = holds.place_hold(
            s, world.officer, "case", case.file_reference, reason="Klage", authority="VG"
        )
    return {
        "case_id": str(case.uuid),
        "document_id": str(inbox.uuid),
        "filed_document_id": str(filed.uuid),
        "version_id": str(version.uuid),
        "batch_id": str(batch.uuid),
        "entry_id": str(entry.uuid),
        "hold_id": str(hold.uuid),
        "token_id": str(token.uuid),
        "username": "fuzzopfer",
        "code": "32.10.05",
        "page": "1",
    }


def _real_values(name: str, converter, ids: dict[str, str]) -> list[str]:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    return [ids[k] for k in (name, f"filed_{name}") if k in ids]


def _path_values(name: str, converter, ids: dict[str, str]) -> st.SearchStrategy[str]:
    real = _real_values(name, converter, ids)
    if isinstance(converter, AnyConverter):
        return st.sampled_from(real)
    if isinstance(converter, UUIDConverter):
        other = st.uuids().map(str)
    elif isinstance(converter, IntegerConverter):
        other = st.sampled_from(["0", "2", "99999", "99999999999999999999"])
    else:
        other = st.sampled_from([v for v in NASTY if v and "/" not in v and v != "\x00"])
    return st.sampled_from(real) | other if real else other


@dataclass
class Route:
    """One route to fuzz: its rule and the strategy for its path."""

    rule: object
    path: st.SearchStrategy[str]


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self, name: str) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return f"{name}: {self.requests} requests ({statuses}); {len(self.problems)} problem(s)"


def routes(app, ids: dict[str, str]) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.rule.startswith("/api/"):
            continue  # the API has its own fuzzer (schemathesis)
        parts = {name: _path_values(name, rule._converters[name], ids) for name in rule.arguments}
        path = st.fixed_dictionaries(parts).map(
            lambda values, rule=rule: rule.build(values, append_unknown=False)[1]
        )
        found.append(Route(rule, path))
    return found


def _real_path(rule, ids: dict[str, str]) -> str:
    """The route's URL with the real objects (or a plain 1) as path parameters."""
    values = {n: (_real_values(n, rule._converters[n], ids) or ["1"])[0] for n in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def harvest(client, app, ids) -> tuple[list[str], list[str], str]:
    """(field names, file field names, CSRF token) from every page the client can open."""
    names, files, token = set(QUERY_NAMES), set(), ""
    for target in routes(app, ids):
        if "GET" not in target.rule.methods:
            continue
        html = client.get(_real_path(target.rule, ids)).get_data(as_text=True)
        names.update(re.findall(r'name="([^"]+)"', html))
        files.update(re.findall(r'type="file"[^>]*name="([^"]+)"', html))
        files.update(re.findall(r'name="([^"]+)"[^>]*type="file"', html))
        if not token and "csrf_token" in html:
            token = csrf_token(html)
    return sorted(names - files), sorted(files), token


def fuzz_routes(app, client, ids, per_route: int, report: FuzzReport):
    """Every route: first every parameter at once at each of the ``BOUNDS``, then
    ``per_route`` hypothesis examples of some parameters with varied values."""
    names, file_names, token = harvest(client, app, ids)
    csrf_names = [n for n in names if n.endswith("csrf_token")]
    plain = [n for n in names if n not in csrf_names]
    _sweep_bounds(app, client, ids, plain, dict.fromkeys(csrf_names, token), report)
    value = st.sampled_from(NASTY) | st.text(max_size=40) | st.integers().map(str)
    params = st.dictionaries(st.sampled_from(plain), value, max_size=6)
    uploads = st.dictionaries(
        st.sampled_from(file_names or ["file"]), st.binary(max_size=300), max_size=2
    )
    for target in routes(app, ids):
        methods = sorted(target.rule.methods & {"GET", "POST"})

        @fuzz_settings(per_route)
        @given(path=target.path, method=st.sampled_from(methods), data=params, files=uploads)
        def one(path, method, data, files):
            if method == "GET":
                response = client.get(path, query_string=data)
            else:
                form = {**data, **dict.fromkeys(csrf_names, token)}
                form.update({k: (io.BytesIO(v), "fuzz.pdf") for k, v in files.items()})
                response = client.post(path, data=form, content_type="multipart/form-data")
            _check(report, f"{method} {path} {sorted(data)}", response.status_code, response.data)

        one()


def _sweep_bounds(app, client, ids, names, csrf: dict[str, str], report: FuzzReport) -> None:
    for route in routes(app, ids):
        path = _real_path(route.rule, ids)
        for bound in BOUNDS:
            data = dict.fromkeys(names, bound)
            if "GET" in route.rule.methods:
                response = client.get(path, query_string=data)
            else:
                response = client.post(path, data={**data, **csrf})
            _check(
                report,
                f"{path} with every parameter {bound!r}",
                response.status_code,
                response.data,
            )


def _check(report: FuzzReport, what: str, status: int, body: bytes) -> None:
    report.requests += 1
    report.statuses[status] += 1
    if status >= 500 or b"Traceback" in body:
        report.problems.append(f"{status} for {what}")


def fuzz_api(app, plain_tokens: dict[str, str], ids, per_operation: int, report: FuzzReport):
    """schemathesis over every operation of /api/v1/openapi.json with each role's token:
    data that fits the document, data that does not, and the real objects' ids."""
    import schemathesis
    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    real = {
        "case": ids["case_id"],
        "document": ids["filed_document_id"],
        "version": ids["version_id"],
    }
    for result in schema.get_all_operations():
        operation = result.ok()
        wanted = {p.name: real[p.name] for p in operation.path_parameters if p.name in real}
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=wanted),
        )
        for plain in plain_tokens.values():
            _fuzz_operation(strategy, plain, per_operation, report)


def _fuzz_operation(strategy, plain: str, per_operation: int, report: FuzzReport):
    @fuzz_settings(per_operation)
    @given(case=strategy)
    def one(case):
        response = case.call(headers={"Authorization": f"Bearer {plain}"})
        what = f"{case.method} {case.formatted_path} {case.query}"
        _check(report, what, response.status_code, response.content)

    one()
