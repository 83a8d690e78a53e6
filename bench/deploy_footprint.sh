#!/usr/bin/env bash
# Memory of the three services at rest (issue 26 sizing): object store, web server, worker -w 2,
# each with its children, 20 s after the web server is ready. PYTHON=… to use another venv.
set -u
cd "$(dirname "$0")/.."
export EAKTE_DATA_DIR=$(mktemp -d)/data EAKTE_PORT=18555 EAKTE_CONFIG_FILE=/nonexistent EAKTE_LOG_LEVEL=WARNING EAKTE_ADMIN_PASSWORD="rss admin password"
PY=${PYTHON:-.venv/bin/python}
$PY -m eakte init >/dev/null
$PY -m eakte object-store > /tmp/rss-os.log 2>&1 & OS=$!
sleep 8
$PY -m eakte serve -w 0 > /tmp/rss-web.log 2>&1 & WEB=$!
$PY -m eakte worker -w 2 > /tmp/rss-worker.log 2>&1 & WK=$!
for i in $(seq 1 120); do curl -fs http://127.0.0.1:18555/readyz >/dev/null && break; sleep 1; done
sleep 20
tree_rss() { local total=0; for p in $1 $(pgrep -P $1) $(for c in $(pgrep -P $1); do pgrep -P $c; done); do r=$(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0); total=$((total + ${r:-0})); done; echo $((total/1024)); }
echo "object-store (weed mini) MiB: $(tree_rss $OS)"
echo "web (serve -w 0, 8 threads) MiB: $(tree_rss $WEB)"
echo "worker -w 2 MiB: $(tree_rss $WK)"
kill -TERM $WEB $WK; sleep 5; kill -TERM $OS; wait
du -sh $EAKTE_DATA_DIR
