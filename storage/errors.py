"""Typed storage errors.

One class per failure. Each class carries what the adapters need at the edge:

- ``exit_code``: the CLI exit code (the numbers match ``eakte.errors.ExitCode``),
- ``http_status``: the status a web view or the JSON API answers with,
- ``user_message``: an English message id for the user interface, marked with ``N_`` and
  shown in German through the web's catalog.

``str(exc)`` is an English message for logs. It never contains credentials.
Callers match on the class, never on the text.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message id for translation; the web translates it when shown."""
    return message


class StorageError(Exception):
    """Base of every error raised by ``storage``."""

    exit_code: int = 1
    http_status: int = 500
    user_message: str = N_("The document storage reported an error.")


class StorageRequestFailed(StorageError):
    """The server rejected a request for a reason no more specific class covers."""


class StorageUnavailable(StorageError):
    """The object store cannot be reached or answered with a server error."""

    exit_code = 4
    http_status = 503
    user_message = N_("The document storage cannot be reached. Please try again later.")


class StorageAuthError(StorageError):
    """The object store refused the credentials (unknown key, wrong secret, no permission)."""

    exit_code = 4
    http_status = 503

    user_message = N_(
        "The document storage refused the credentials. Please contact the administration."
    )


class EmbeddedServerError(StorageError):
    """The embedded SeaweedFS could not be started, or is already running on that data dir."""

    exit_code = 4
    http_status = 503

    user_message = N_(
        "The built-in document storage could not be started. Please contact the administration."
    )


class EmbeddedServerAlreadyRunning(EmbeddedServerError):
    """An embedded SeaweedFS already runs on this data dir (exit code 7, "already running")."""

    exit_code = 7
    http_status = 503
    user_message = N_("The built-in document storage is already running.")


class BucketMisconfigured(StorageError):
    """The bucket is missing, or lacks versioning or Object Lock."""

    exit_code = 3
    http_status = 500
    user_message = N_(
        "The document storage is set up wrongly (versioning or object lock is missing). "
        "Please contact the administration."
    )

    def __init__(self, bucket: str, missing: list[str] | tuple[str, ...], detail: str = ""):
        self.bucket = bucket
        self.missing = tuple(missing)
        text = f"bucket {bucket!r} is misconfigured: missing {', '.join(self.missing)}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class IntegrityError(StorageError):
    """The bytes read or written do not have the sha256 they must have."""

    exit_code = 5
    http_status = 500
    user_message = N_(
        "The stored file is damaged (its checksum does not match). This has been logged; "
        "please contact records management."
    )

    def __init__(
        self,
        key: str,
        version_id: str | None,
        expected: str | None,
        actual: str | None,
        detail: str = "",
    ):
        self.key = key
        self.version_id = version_id
        self.expected = expected
        self.actual = actual
        text = (
            f"sha256 mismatch for {key!r} version {version_id!r}: expected {expected}, got {actual}"
        )
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class ObjectNotFound(StorageError):
    """No such object or object version (or it is a delete marker)."""

    exit_code = 9
    http_status = 404
    user_message = N_("The file was not found in the document storage.")

    def __init__(self, key: str, version_id: str | None = None, detail: str = ""):
        self.key = key
        self.version_id = version_id
        text = f"object {key!r} version {version_id!r} not found"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class ObjectLocked(StorageError):
    """The server refused the change because of a retention period or a legal hold."""

    exit_code = 10
    http_status = 409
    user_message = N_(
        "The file is protected by a retention period or a legal hold and cannot be changed "
        "or deleted."
    )

    def __init__(self, key: str, version_id: str | None = None, detail: str = ""):
        self.key = key
        self.version_id = version_id
        text = f"object {key!r} version {version_id!r} is locked"
        if detail:
            text += f": {detail}"
        super().__init__(text)
