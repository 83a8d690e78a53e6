"""Issue 14: fuzzing in the suite. Every web route's query and form parameters as every role,
and every /api/v1 operation (schemathesis, from the OpenAPI document) with a token per role:
never a 500, never a traceback. Few, fixed examples here; bench/web_fuzz_bench.py runs many."""

from sqlalchemy import select

from eakte.models import User
from eakte.models.api import Scope
from eakte.services import api_tokens
from tests.web.fuzz import ROLES, FuzzReport, examples, fuzz_api, fuzz_routes, fuzz_world


def test_fuzzed_web_routes_never_fail_for_any_role(app, world, sign_in):
    ids = fuzz_world(world)
    report = FuzzReport()
    clients = [sign_in(role) for role in ROLES]  # before the fuzzing tries to sign in
    for client in clients:
        fuzz_routes(app, client, ids, examples(2), report)
    print(report.summary("web routes"))  # shown with -s (the benchmark)
    assert report.requests > 0 and report.problems == []


def test_fuzzed_api_never_fails_for_any_role(app, world):
    ids = fuzz_world(world)
    tokens = {}
    with world.session() as s:
        for role in ROLES:  # each person makes their own token
            user = s.scalar(select(User).where(User.username == role))
            _token, tokens[role] = api_tokens.create_token(s, user, role, set(Scope))
    report = FuzzReport()
    fuzz_api(app, tokens, ids, examples(5), report)
    print(report.summary("API"))
    assert report.requests > 0 and report.problems == []
