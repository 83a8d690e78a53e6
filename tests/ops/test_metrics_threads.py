"""The counters are made once even when web threads ask for them at the same moment (found by
the web load benchmark after issue 15: a second set was refused by prometheus_client as
duplicated time series, and the search page answered 500)."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter (no counters made yet), threads released together and switched often.
RACE = """
import sys, threading
sys.setswitchinterval(1e-6)
from eakte import metrics
start = threading.Barrier(8)
errors = []
def take():
    start.wait()
    try:
        metrics.counters()
    except Exception as exc:
        errors.append(type(exc).__name__)
threads = [threading.Thread(target=take) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


def test_threads_asking_at_once_get_one_set_of_counters():
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", RACE], capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == "[]", run.stdout
