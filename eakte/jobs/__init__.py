"""Background jobs with Huey: SQLite storage in the data dir by default, Redis when configured.

Nothing here is built at import: ``factory.build_queue(runtime)`` makes the queue of a runtime
and binds every task to it; callers use ``runtime.jobs`` (the port in ``port``). In ``eakte
worker`` the consumer's processes share the runtime's queue, each with its own connections.
"""
