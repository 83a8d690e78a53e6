"""Logging: one line per event, text or JSON (``EAKTE_LOG_FORMAT``), English."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

from eakte.config import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attr in ("request_id", "job_id"):
            if hasattr(record, attr):
                entry[attr] = getattr(record, attr)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# The web request or the job a log line belongs to (set by web/requestid.py and a Huey hook).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)


class ContextFilter(logging.Filter):
    """Puts the current request or job id on every record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for attr, var in (("request_id", request_id), ("job_id", job_id)):
            value = var.get()
            if value is not None and not hasattr(record, attr):
                setattr(record, attr, value)
        return True


class TextFormatter(logging.Formatter):
    """One line per event: the ids in brackets, line breaks (tracebacks) escaped."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [
            f"{label}={getattr(record, attr)}"
            for attr, label in (("request_id", "request"), ("job_id", "job"))
            if getattr(record, attr, None)
        ]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record).replace("\n", "\\n")


def configure(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # The S3 client logs request details at DEBUG, which can include signed headers.
    logging.getLogger("urllib3").setLevel(max(logging.INFO, root.level))
    # Alembic narrates every schema check at INFO; operators need it only when debugging.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
