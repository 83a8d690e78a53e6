"""Web fuzzing benchmark (issue 14): the suite's fuzzers (tests/web/test_fuzz.py) with many
random examples instead of a few fixed ones: hypothesis over every web route's query and form
parameters as every role, and schemathesis over every /api/v1 operation with a token per role.
Prints the requests sent and the answers by status; any 500 or traceback fails the run.

    python -m bench.web_fuzz_bench                    # 100 examples per route and role, SQLite
    python -m bench.web_fuzz_bench --examples 500 --db postgresql
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pytest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="per route (API: operation)")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    os.environ["EAKTE_FUZZ_EXAMPLES"] = str(args.examples)
    started = time.monotonic()
    # -s: the tests print their counts; no per-test time limit for the long run
    options = ["-q", "-s", "-p", "no:cacheprovider", "-o", "timeout=0", "-k", args.db]
    code = pytest.main(["tests/web/test_fuzz.py", *options])
    print(
        f"{args.examples} examples per route/operation and role on {args.db}: "
        f"{time.monotonic() - started:.0f} s, pytest exit code {int(code)}"
    )
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
