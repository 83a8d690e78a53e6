#!/usr/bin/env bash
# Extract message ids, merge them into the German catalog and compile it.
# Usage: scripts/i18n.sh            (after changing user-facing text; then translate the new entries)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
"$PYBABEL" extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location --omit-header -o /tmp/eakte-messages.pot .
"$PYBABEL" update --no-fuzzy-matching -i /tmp/eakte-messages.pot -d web/translations -l de
"$PYBABEL" compile -d web/translations -l de
