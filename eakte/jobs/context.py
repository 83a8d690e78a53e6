"""One ``Runtime`` per worker process, opened on first use and closed when the worker stops."""

from __future__ import annotations

import atexit
import contextlib
import threading

from eakte.config import Settings
from eakte.runtime import Runtime, open_runtime

_lock = threading.Lock()
_runtime: Runtime | None = None
_stack = contextlib.ExitStack()


def runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = _stack.enter_context(open_runtime(Settings.from_env()))
            atexit.register(_stack.close)
        return _runtime
