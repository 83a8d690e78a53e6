"""Office documents and text files to PDF/A-2b, by LibreOffice headless, bounded.

The worker's confined child (``conversion.prepare``) calls ``prepare``: the original is copied
(text transcoded to UTF-8) into the job's work dir, LibreOffice converts it to PDF/A-2b, and
the PDF's text layer is the document's text. A rendition without any text (a scan pasted into
a Word file) is left to the OCR step, which makes its own PDF/A from it.

**One soffice per conversion, a reused private profile.** Measured (``bench/office_bench.py``,
LibreOffice 7.4, 2 cores shared with other load, a three-page letter): 0.22 DOCX / 0.19 ODT
documents per second this way, against 0.68 / 0.46 when one soffice converts all of them, which
is about what a long-lived server (unoserver) could reach. The start-up costs about two thirds.
It is paid for what matters more in an archive intake: a fresh process per document starts
clean, is killed with everything it started, and nothing a hostile document did to it lives on
into the next one; the bounds below are plain rlimits of that process. unoserver also needs
Debian's ``python3-uno`` beside the system Python (the venv's Python cannot load it) and a
second process to watch. A town hall's mail (hundreds of documents a day) is far below what
one worker converts this way; the profile is made once and reused, which keeps the start cheap.

**Bounds**, each conversion in its own process group (session):

* wall clock ``JobLimits.office_seconds`` (EAKTE_INGEST_OFFICE_SECONDS): the group is killed;
* address space ``JobLimits.office_memory_bytes`` (EAKTE_INGEST_OFFICE_MEMORY_MB), set as
  rlimits of soffice itself (the confined child's own ``RLIMIT_AS`` is inherited and can only
  be lowered, so the lower of the two holds), and CPU time and file size (a document that
  grows its output without end stops at ``MAX_OUTPUT_BYTES``);
* no network: soffice runs in a new network namespace (``unshare -n`` as root, else
  ``unshare -rn`` through a user namespace); where neither is allowed (a container without
  them) it runs without and this is logged once — links are then still never updated
  (profile settings below), but the host's firewall is what keeps it off the network;
* macros never run: the profile sets macro security to "very high", ``DisableMacrosExecution``
  and ``OfficeBasic`` = never; Debian's ``-nogui`` packages carry no Basic IDE; links to
  other files or the web are never updated;
* one conversion per profile at a time: a profile is taken with ``flock`` (held by soffice
  itself too, so a profile is not reused while anything of an earlier conversion still lives).

A conversion that fails, hangs or grows ends in ``OfficeFailed`` with a readable reason: the
document fails (and can be retried), the worker takes the next one.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from eakte.ingest import office_types
from eakte.ingest.office_checks import decode_text
from eakte.ingest.reasons import plain

if TYPE_CHECKING:
    from eakte.ingest.process_context import ProcessContext

log = logging.getLogger(__name__)

SOFFICE = "soffice"  # found on PATH; tests point it at a fake to inject failures
MAX_PROFILES = 64  # profiles per host, one per conversion running at once
MAX_OUTPUT_BYTES = 1024 * 1024 * 1024
PR_SET_PDEATHSIG = 1

# kind → (extension LibreOffice is given, PDF export filter)
FILTERS = {
    "docx": ("docx", "writer_pdf_Export"),
    "doc": ("doc", "writer_pdf_Export"),
    "odt": ("odt", "writer_pdf_Export"),
    "rtf": ("rtf", "writer_pdf_Export"),
    "text": ("txt", "writer_pdf_Export"),
    "xml": ("txt", "writer_pdf_Export"),  # shown as its text: never parsed, never transformed
    "html": ("html", "writer_web_pdf_Export"),
    "xlsx": ("xlsx", "calc_pdf_Export"),
    "xls": ("xls", "calc_pdf_Export"),
    "ods": ("ods", "calc_pdf_Export"),
    "csv": ("csv", "calc_pdf_Export"),
    "pptx": ("pptx", "impress_pdf_Export"),
    "odp": ("odp", "impress_pdf_Export"),
}
KINDS = frozenset(FILTERS)
# PDF/A-2b (SelectPdfVersion 2), tagged; options as JSON (LibreOffice >= 7.4)
EXPORT_OPTIONS = json.dumps(
    {
        "SelectPdfVersion": {"type": "long", "value": "2"},
        "UseTaggedPDF": {"type": "boolean", "value": "true"},
    },
    separators=(",", ":"),
)
# Plain text: UTF-8 (we transcode), monospace, German; CSV: separator, quote ", UTF-8 (76)
TEXT_FILTER = "Text (encoded):UTF8,LF,Liberation Mono,de-DE,"
CSV_FILTER = "Text - txt - csv (StarCalc):{sep},34,76,1,,1031"

PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="OfficeBasic" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="ExecutePlugins" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
</oor:items>
"""  # noqa: E501


class OfficeFailed(Exception):
    """The conversion failed; ``str()`` is the readable reason."""


def handles(mime: str) -> bool:
    return office_types.KINDS.get(mime) in KINDS


def prepare(ctx: ProcessContext) -> None:
    """In the confined child: the original converted to PDF/A (``ctx.pdf``); with a text
    layer it is the rendition and its text the document's text, otherwise OCR follows."""
    from eakte.ingest.process_context import Failure
    from eakte.ingest.text import read_pdf

    kind = office_types.KINDS[ctx.original.mime]
    source = ctx.workdir / "office-in" / f"document.{FILTERS[kind][0]}"
    source.parent.mkdir()
    if ctx.local is None:
        raise Failure("the original was not fetched before its conversion")
    infilter = stage(ctx.local, kind, source)
    try:
        ctx.pdf = convert(
            source,
            kind,
            ctx.workdir / "office-out",
            profiles=ctx.workdir.parent / "eakte-office-profiles",
            seconds=ctx.limits.office_seconds,
            memory_bytes=ctx.limits.office_memory_bytes,
            infilter=infilter,
        )
    except OfficeFailed as exc:
        raise Failure(str(exc)) from None
    found = read_pdf(ctx.pdf)
    ctx.texts, ctx.pages = found.pages, len(found.pages)
    if any(page.strip() for page in found.pages):
        ctx.rendition = ctx.pdf  # born digital: no OCR


def stage(original: Path, kind: str, target: Path) -> str | None:
    """The file LibreOffice opens, named for its kind; text transcoded to UTF-8. Returns the
    import filter to use (text and CSV), or None (LibreOffice detects the format)."""
    if kind not in ("text", "xml", "csv"):
        shutil.copyfile(original, target)
        return None
    text, _ = decode_text(original.read_bytes())
    target.write_text(text, encoding="utf-8")
    if kind == "csv":
        separator = office_types.csv_dialect(text.encode("utf-8")[: 1 << 20]) or ";"
        return CSV_FILTER.format(sep=ord(separator))
    return TEXT_FILTER


def convert(
    source: Path,
    kind: str,
    out_dir: Path,
    *,
    profiles: Path,
    seconds: int,
    memory_bytes: int,
    infilter: str | None = None,
) -> Path:
    """``source`` as PDF/A-2b in ``out_dir``; ``OfficeFailed`` with the reason otherwise."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir.parent / f"{out_dir.name}.log"
    with _profile(profiles) as (profile, lock_fd):
        command = [
            *_network_off(),
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            *([f"--infilter={infilter}"] if infilter else []),
            "--convert-to",
            f"pdf:{FILTERS[kind][1]}:{EXPORT_OPTIONS}",
            "--outdir",
            str(out_dir),
            str(source),
        ]
        with log_path.open("wb") as output:
            _run(command, output, lock_fd, seconds, memory_bytes)
    produced = out_dir / f"{source.stem}.pdf"
    if not produced.is_file() or produced.stat().st_size == 0:
        said = _last_words(log_path)
        raise OfficeFailed(
            "LibreOffice could not read the document" + (f" ({said})" if said else "")
        )
    return produced


def _run(command: list[str], output, lock_fd: int, seconds: int, memory_bytes: int) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 (soffice wants one; profile is ours)
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",  # headless rendering, no display
    }
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: killed as one
            pass_fds=(lock_fd,),  # the profile stays taken while anything of it lives
            preexec_fn=lambda: _limit_self(seconds, memory_bytes),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise OfficeFailed(f"LibreOffice cannot be started: {plain(exc)}") from None
    try:
        status = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise OfficeFailed(
            f"LibreOffice did not finish the conversion within {seconds} s and was stopped "
            "(EAKTE_INGEST_OFFICE_SECONDS)"
        ) from None
    _kill_group(proc)  # whatever it left running
    if status < 0:
        sig = signal.Signals(-status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            raise OfficeFailed(
                f"LibreOffice used more time than allowed ({seconds} s) and was stopped"
            )
        raise OfficeFailed(
            f"LibreOffice crashed ({sig.name}), most likely beyond the memory allowed "
            f"({memory_bytes // 2**20} MB, EAKTE_INGEST_OFFICE_MEMORY_MB)"
        )
    if status != 0 and status not in (81,):  # 81: soffice restarted itself once (profile)
        raise OfficeFailed(
            f"LibreOffice ended with exit code {status}, most likely beyond the memory "
            f"allowed ({memory_bytes // 2**20} MB, EAKTE_INGEST_OFFICE_MEMORY_MB)"
        )


def _limit_self(seconds: int, memory_bytes: int) -> None:
    """In soffice's process before exec: its own limits, inherited by all it starts. The
    confined child's limits are inherited too; a hard limit can only be lowered, so where
    the child's is lower, that one holds."""
    import ctypes

    _lower(resource.RLIMIT_AS, memory_bytes, memory_bytes)
    _lower(resource.RLIMIT_CPU, seconds, seconds + 5)
    _lower(resource.RLIMIT_FSIZE, MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES)
    _lower(resource.RLIMIT_CORE, 0, 0)
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _lower(which: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


def _kill_group(proc: subprocess.Popen) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextmanager
def _profile(root: Path):
    """A private profile dir nobody else uses now (flock), made and reused."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = root.lstat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022 or not root.is_dir():
        raise OfficeFailed("the folder of the LibreOffice profiles is not eAkte's own")
    for number in range(MAX_PROFILES):
        lock_fd = os.open(root / f"profile-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            continue
        try:
            profile = root / f"profile-{number}"
            _settle_profile(profile)
            yield profile, lock_fd
        finally:
            os.close(lock_fd)
        return
    raise OfficeFailed(f"all {MAX_PROFILES} LibreOffice profiles are in use")


def _settle_profile(profile: Path) -> None:
    """Our settings in the profile (again, if LibreOffice or a crash lost them)."""
    settings = profile / "user" / "registrymodifications.xcu"
    with suppress(OSError):
        if all(
            mark.search(settings.read_text(encoding="utf-8", errors="replace"))
            for mark in _SETTINGS_KEPT
        ):
            return
    shutil.rmtree(profile, ignore_errors=True)  # start it over: a clean profile with ours
    settings.parent.mkdir(parents=True, mode=0o700)
    settings.write_text(PROFILE_SETTINGS, encoding="utf-8")


_SETTINGS_KEPT = [
    re.compile(rf'"{name}" oor:op="fuse"><value>{value}</value>')
    for name, value in (("DisableMacrosExecution", "true"), ("MacroSecurityLevel", "3"))
]


@cache
def _network_off() -> tuple[str, ...]:
    """The prefix that starts soffice without network, or none where that is not allowed."""
    unshare = shutil.which("unshare")
    if unshare:
        for prefix in ((unshare, "-n"), (unshare, "-rn")):
            with suppress(OSError, subprocess.SubprocessError):
                probe = subprocess.run(
                    [*prefix, "true"], capture_output=True, timeout=10, check=False
                )
                if probe.returncode == 0:
                    return prefix
    log.warning(
        "LibreOffice runs with network access: no network namespace can be made here "
        "(unshare -n / -rn not allowed)"
    )
    return ()


def _last_words(log_path: Path) -> str:
    """What soffice said last, made readable (it names our paths: ``plain`` drops them)."""
    with suppress(OSError):
        lines = [
            line
            for line in log_path.read_text(errors="replace").splitlines()
            if line.strip() and "javaldx" not in line
        ]
        if lines:
            return plain(lines[-1])
    return ""
