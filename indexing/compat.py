"""The start-up check of the private library internals the index relies on.

The composition root calls ``self_check()`` once when it builds the runtime: a library
upgraded past what ``indexing.whoosh_compat`` was written for then fails at start, with an
error naming the library and its version, instead of answering searches wrongly.
"""

from __future__ import annotations

import functools

from indexing import whoosh_compat


@functools.cache  # once per process: the installed libraries do not change while it runs
def self_check() -> None:
    """Raises ``indexing.errors.IncompatibleDependency`` when an internal changed."""
    whoosh_compat.self_check()
