"""Background jobs with Huey: SQLite storage in the data dir by default, Redis when configured.

The queue is built from the environment when this package is first imported, because Huey binds
tasks to a queue instance at definition time. Workers open one ``Runtime`` each (see ``context``).
"""

from eakte.jobs.queue import huey

__all__ = ["huey"]
