#!/usr/bin/env bash
# Install what eAkte needs on Debian/Ubuntu: system packages (only those missing) and the Python
# environment in .venv. Safe to run again; used by scripts/start and scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(tesseract-ocr tesseract-ocr-deu ghostscript libmagic1 qpdf python3-venv)
SYSTEM_PACKAGES+=(postgresql-client)  # pg_dump/pg_restore for eakte backup/restore on PostgreSQL
SYSTEM_PACKAGES+=(openssl)  # RFC 3161 timestamps of the audit anchors (EAKTE_TSA_URL), and their tests
# Office documents and text to PDF/A (issue 25): LibreOffice headless, without its GUI; the
# Liberation fonts stand in for Arial, Times New Roman and Courier New with the same metrics.
SYSTEM_PACKAGES+=(libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)
SYSTEM_PACKAGES+=(fonts-liberation2)
SYSTEM_PACKAGES+=(jbig2dec)  # JBIG2 scan pages decoded by pikepdf (OCR input); without it PDFium renders them
SYSTEM_PACKAGES+=(wngerman)  # German word list: orientation vote and page quality share of dictionary words (issue 18)
SYSTEM_PACKAGES+=("$@")  # callers add their own (tests: postgresql client tools, chromium, ...)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "eakte setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "eakte setup: Python 3.11 or newer is needed (found $("$PYTHON" --version))" >&2
  exit 1
}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Exact versions with their hashes from requirements.lock (made from pyproject.toml's ranges, see
# the README's "Upgrading dependencies"), then eAkte itself without resolving anything again.
stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
if [ ! -e "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --require-hashes -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  rm -f .venv/.installed-* && touch "$stamp"
fi
