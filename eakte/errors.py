"""Typed errors of eAkte: one class per failure.

Each class carries the exit code the CLI returns, the HTTP status the web layer answers with and
a message for the user (an English message id, marked with ``N_`` and shown in German through the
web catalog); ``str(error)`` is the English text for logs. Adapters map errors to exit codes and
responses only at the edge (``eakte.cli``, ``web``); nothing matches errors by their text.

Errors raised by ``storage/`` (``storage.errors.StorageError``) and ``indexing/``
(``indexing.errors.SearchIndexError``: search queries, a busy index) follow the same contract and
the same exit codes, so the edge treats them alike (see ``EDGE_ERRORS``).
"""

from __future__ import annotations

from enum import IntEnum

from indexing.errors import SearchIndexError
from storage.errors import StorageError


def N_(message: str) -> str:
    """Mark a message for translation; the web edge translates it (``gettext``) when shown."""
    return message


class ExitCode(IntEnum):
    ok = 0
    failure = 1
    usage = 2  # click's own code for bad arguments
    config = 3
    storage_unavailable = 4
    integrity = 5
    database_unavailable = 6
    already_running = 7
    permission_denied = 8
    not_found = 9
    conflict = 10
    verify_failed = 11
    bad_input = 12


class EakteError(Exception):
    """Base of every expected failure. Subclasses set the three class attributes."""

    exit_code: int = ExitCode.failure
    http_status: int = 500
    user_message: str = N_("The action failed.")


class ConfigError(EakteError):
    """A setting (``EAKTE_*`` variable) is missing or has a bad value."""

    exit_code = ExitCode.config
    user_message = N_("The configuration is not valid.")


class DataDirError(ConfigError):
    """The data directory is missing, not a directory or not writable."""


class DatabaseUnavailable(EakteError):
    exit_code = ExitCode.database_unavailable
    http_status = 503
    user_message = N_("The database is not reachable.")


class DatabaseNotInitialised(EakteError):
    """The schema is older than this code (``eakte init`` upgrades it)."""

    exit_code = ExitCode.config
    http_status = 503
    user_message = N_("The database is not up to date.")


class AlreadyRunning(EakteError):
    exit_code = ExitCode.already_running
    user_message = N_("eAkte is already running.")


class PortInUse(EakteError):
    exit_code = ExitCode.already_running
    user_message = N_("The network port is already in use.")


class NotSignedIn(EakteError):
    exit_code = ExitCode.permission_denied
    http_status = 401
    user_message = N_("Please sign in.")


class TooManyAttempts(EakteError):
    """Sign-in refused for a while after repeated failures."""

    exit_code = ExitCode.permission_denied
    http_status = 429
    user_message = N_("Too many failed sign-ins. Please wait a few minutes and try again.")


class PermissionDenied(EakteError):
    """The user may see the object but not do this to it (else ``NotFound``)."""

    exit_code = ExitCode.permission_denied
    http_status = 403
    user_message = N_("You are not allowed to do this.")


class NotFound(EakteError):
    exit_code = ExitCode.not_found
    http_status = 404
    user_message = N_("The object was not found.")


class Conflict(EakteError):
    exit_code = ExitCode.conflict
    http_status = 409
    user_message = N_("This action is not possible in the current state.")


class CaseClosed(Conflict):
    """R4: a closed case or process accepts no new documents and no changes."""

    user_message = N_("The case is closed (zdA) and cannot be changed.")


class NoRetentionSchedule(Conflict):
    """R3: cases can only be created under a file-plan node with a retention schedule."""

    user_message = N_("The file plan node has no retention schedule.")


class BadInput(EakteError):
    exit_code = ExitCode.bad_input
    http_status = 400
    user_message = N_("The input is not valid.")


class WrongPassword(PermissionDenied):
    """A password asked for again (changing it, a CLI approval) did not match."""

    user_message = N_("The password is wrong.")


class WeakPassword(BadInput):
    user_message = N_(
        "The new password needs 10 to 200 characters and must differ from the current one."
    )


class FourEyes(PermissionDenied):
    """A role grant needs a second, existing holder of that role to confirm it."""

    user_message = N_("A second holder of this role must confirm the grant.")


class BadParameter(BadInput):
    """A query or form parameter of a web request is malformed or out of range."""

    user_message = N_("A value in the address or the form is not valid.")


class VerifyFailed(EakteError):
    exit_code = ExitCode.verify_failed
    user_message = N_("The verification found discrepancies.")


# What the edges (CLI, web) translate; everything else is a bug and is logged as such.
EDGE_ERRORS: tuple[type[Exception], ...] = (EakteError, StorageError, SearchIndexError)


# --- retention and disposal (issue 6) ---


class LegalHoldActive(Conflict):
    """R12: a legal hold blocks destruction, transfer and content changes beneath it."""

    user_message = N_("A legal hold blocks this action.")


class NotDue(Conflict):
    """R8/R9: only closed cases past their retention end can be proposed for disposal."""

    user_message = N_("The case is not due for disposal.")


class FourEyesViolation(PermissionDenied):
    """R9: the approver of a disposal must be another records officer than the proposer."""

    user_message = N_("A disposal must be decided by a different records officer.")


class RequestNotApproved(Conflict):
    """R9: without an approved request nothing is destroyed or transferred."""

    user_message = N_("The disposal request is not approved.")


class XdomeaRejected(BadInput):
    """R13: a malformed or foreign xdomea message; nothing of it was applied."""

    user_message = N_("The xdomea message was rejected.")


class XdomeaInvalid(EakteError):
    """R13: a message eAkte wrote does not match the xdomea 3.1.0 schema; it did not leave
    (a defect to report, not the user's input)."""

    user_message = N_("The xdomea message does not match the schema and was not written.")


# --- ingest and scanning (issue 4) ---


class IngestRetryLater(EakteError):
    """Ingest met a transient failure (object storage or database away); the job retries."""

    exit_code = ExitCode.storage_unavailable
    http_status = 503
    user_message = N_("The document could not be processed yet; it will be retried.")


class ManifestInvalid(BadInput):
    """An import manifest with problems; nothing of the import was started."""

    user_message = N_("The import manifest has problems; nothing was imported.")

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n".join(problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"manifest not used, {len(problems)} problem(s):\n{shown}{more}")


class MigrationNeedsApproval(Conflict):
    """Issue 21: a migration runs only once a records officer approved its manifest."""

    user_message = N_("The migration has not been approved by a records officer.")


class MigrationFourEyes(PermissionDenied):
    """Issue 21: who approves a migration is another person than who prepared it."""

    user_message = N_("A migration must be approved by another person than its preparer.")


class NotRetryable(Conflict):
    user_message = N_("Only a failed document can be processed again.")


class QcNeedsPerson(PermissionDenied):
    """R17: a scan batch passes quality control only by a person's decision."""

    user_message = N_("Only a person can pass the quality check of a scan batch.")


class BatchIncomplete(Conflict):
    user_message = N_("Documents of this batch are still being processed.")


class NotAScan(Conflict):
    user_message = N_("Only pages of scanned documents can be replaced.")


class PagesUnchecked(Conflict):
    """Issue 18: pages whose recognition is below the quality thresholds are accepted or
    re-scanned before the batch passes."""

    user_message = N_("Pages below the recognition quality threshold are not yet checked.")


# --- operations: backup and restore (issue 8) ---


class BackupTargetNotEmpty(Conflict):
    """``eakte backup`` writes only into an empty (or new) directory, never over a backup."""

    user_message = N_("The backup directory is not empty.")


class RestoreTargetNotEmpty(Conflict):
    """``eakte restore`` rebuilds a fresh installation only; it never merges into data."""

    user_message = N_("The installation to restore into is not empty.")


class BackupUnusable(BadInput):
    """The backup is incomplete, damaged or for another kind of database."""

    user_message = N_("The backup is incomplete or damaged.")


class BackupObjectsMissing(EakteError):
    """Restoring without objects: objects the backup lists are not in the object storage."""

    exit_code = ExitCode.integrity
    user_message = N_("Objects listed in the backup are missing in the object storage.")


class ExternalToolFailed(EakteError):
    """pg_dump or pg_restore is not installed or failed."""

    user_message = N_("An external program failed.")


class UnsupportedType(EakteError):
    """Every file of a delivery had a type that is not accepted (the files are in quarantine)."""

    exit_code = ExitCode.bad_input
    http_status = 415
    user_message = N_("This file type is not supported.")


# --- moves and file-plan changes (issue 13) ---


class MoveUnderHold(LegalHoldActive):
    """R12: while a hold stands its scope is fixed: nothing moves out from under it or into it."""

    user_message = N_(
        "A legal hold covers this object or its destination; it cannot be moved while the hold "
        "stands."
    )


class NodeExists(Conflict):
    """Creating a node never changes an existing one; moving and renaming are their own steps."""

    user_message = N_(
        "A node with this code already exists. Moving or renaming it is a separate action."
    )


class ChangesNeedConfirmation(Conflict):
    """A file-plan import would move or rename existing nodes: it needs the confirmation token
    of exactly these planned changes (``changes``, ``token``)."""

    user_message = N_("The file would change existing nodes; please check and confirm the changes.")

    def __init__(self, changes: list, token: str):
        self.changes, self.token = changes, token
        listed = "\n".join(str(change) for change in changes)
        super().__init__(f"the file would change {len(changes)} existing node field(s):\n{listed}")


class TimestampFailed(EakteError):
    """The time-stamping authority (RFC 3161) did not answer with a valid token, or a stored
    token does not check out."""

    exit_code = ExitCode.failure
    http_status = 502
    user_message = N_("The time-stamping service did not answer with a valid timestamp.")


# --- directory sign-in and the second factor (issue 19) ---


class DirectoryUnavailable(EakteError):
    """The tenant's directory (LDAP / Active Directory) did not answer, or its TLS failed."""

    exit_code = ExitCode.storage_unavailable
    http_status = 503
    user_message = N_(
        "The directory (Active Directory / LDAP) is not reachable. Only local emergency "
        "accounts can sign in now."
    )


class NotInDirectoryGroup(PermissionDenied):
    """The directory knows the person, but none of their groups is mapped to eAkte."""

    user_message = N_("Your directory account has no access to eAkte (no mapped group).")


class SecondFactorRequired(PermissionDenied):
    """This step needs a current code from the authenticator app (or a recovery code)."""

    user_message = N_("Please enter the current code from your authenticator app.")


class WrongSecondFactor(PermissionDenied):
    user_message = N_("The code is wrong or was already used.")


class SecondFactorNotEnrolled(PermissionDenied):
    """The role needs a second factor that the user has not set up yet."""

    user_message = N_("Set up the second factor (authenticator app) first.")


# --- the clerk's daily work: routes, Wiedervorlagen, deputies (issue 16) ---


class StepNotCurrent(Conflict):
    """R29: only a current step can be decided; done steps never change."""

    user_message = N_("This step is not current: done steps cannot be changed.")


class RouteNotOpen(Conflict):
    user_message = N_("The route is no longer open.")


class RouteVersionChanged(Conflict):
    """R29: the route is about one version; a later version of the document needs a new route."""

    user_message = N_(
        "The document has a newer version since the route started: start a new route."
    )


class OpenWorkBlocksClosure(Conflict):
    """R31: a case is not closed while routes or Wiedervorlagen on it are open. The message
    names them (German, for the clerk)."""

    user_message = N_("Open routes or Wiedervorlagen prevent closing the case.")

    def __init__(self, english: str, german: str):
        super().__init__(english)
        self.user_message = german  # shown as it is: it names the open routes and dates


class MailServerError(EakteError):
    """Issue 17: an IMAP server could not be reached, refused the sign-in or the folder."""

    exit_code = ExitCode.storage_unavailable
    http_status = 502
    user_message = N_("The mail server could not be reached or refused the sign-in.")
