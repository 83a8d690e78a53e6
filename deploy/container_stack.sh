#!/usr/bin/env bash
# The container stack of deploy/compose.yaml, built and run on a machine that reaches Debian's
# and Python's package registries but no container registry (issue 26). Prints each step:
#   1. base image: debootstrap (Debian bookworm, minbase) -> podman import localhost/debian:bookworm-slim
#   2. images: eakte (deploy/Containerfile), PostgreSQL and Redis stand-ins (deploy/local/)
#   3. start: podman-compose up (runc, cgroupfs, lowered ulimits: what works here)
#   4. eakte init; sign-in; upload a scanned page -> OCR by a worker -> searchable
#   5. eakte verify across the stack
#   6. stop (podman-compose down; volumes kept unless --purge)
# Run as root from the repository: deploy/container_stack.sh [--purge]
# Debian packages it needs: podman runc debootstrap netavark aardvark-dns
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=${EAKTE_STACK_WORK:-/var/tmp/eakte-stack}
ROOTFS=$WORK/rootfs
BASE=localhost/debian:bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$WORK"
step() { printf '\n== %s  [%s]\n' "$*" "$(date -u +%H:%M:%S)"; }
t0=$(date +%s)

# podman on this kind of machine: runc and cgroupfs (crun and systemd cgroups fail here)
export CONTAINERS_CONF=$WORK/containers.conf
cat > "$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
# container names resolve inside the stack's network (aardvark-dns); CNI has no DNS here
network_backend = "netavark"
EOF
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)

step "1. base image $BASE from Debian packages (debootstrap + podman import)"
if ! "${PODMAN[@]}" image exists "$BASE"; then
  if [ ! -x "$ROOTFS/usr/bin/apt-get" ]; then
    debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR"
  fi
  tar -C "$ROOTFS" -c . | "${PODMAN[@]}" import \
    --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$BASE"
fi
"${PODMAN[@]}" image ls "$BASE"

step "2. images: eakte (deploy/Containerfile, non-root), postgres and redis stand-ins"
build() { "${PODMAN[@]}" build --network host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  --build-arg BASE="$BASE" -q "$@"; }
# this machine's CA bundle, for pip behind its TLS-intercepting proxy
build -v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro --build-arg PIP_CERT=/run/host-ca.crt \
  -f deploy/Containerfile -t localhost/eakte "$REPO"
build -f deploy/local/postgres.Containerfile -t localhost/postgres "$REPO"
build -f deploy/local/redis.Containerfile -t localhost/redis "$REPO"
"${PODMAN[@]}" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'eakte|postgres|redis'

step "3. start the stack (podman-compose)"
if [ ! -x "$WORK/venv/bin/podman-compose" ]; then
  python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install -q podman-compose
fi
COMPOSE=("$WORK/venv/bin/podman-compose" --podman-path podman -f deploy/compose.yaml)
if [ ! -f deploy/.env ]; then
  secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
  sed -e "s/CHANGE-ME-postgres/$(secret)/" -e "s/CHANGE-ME-s3-secret/$(secret)/" \
      -e "s/CHANGE-ME-a-long-random-string/$(secret)/" -e "s/CHANGE-ME-admin/$(secret)/" \
      deploy/eakte.compose.env.example > deploy/.env
  chmod 600 deploy/.env
fi
set -a; . deploy/.env; set +a
# The S3 gateway's identities: the one least-privilege key, as the embedded store writes it.
"${PODMAN[@]}" run --rm -e K="$EAKTE_S3_ACCESS_KEY" -e S="$EAKTE_S3_SECRET_KEY" localhost/eakte \
  python3 -c 'import json,os; from storage.weed import identities_config; print(json.dumps(identities_config(os.environ["K"], os.environ["S"])))' \
  > deploy/s3.json
chmod 644 deploy/s3.json
export POSTGRES_IMAGE=localhost/postgres REDIS_IMAGE=localhost/redis EAKTE_IMAGE=localhost/eakte
"${COMPOSE[@]}" up -d
for i in $(seq 1 120); do
  if curl -fsS http://127.0.0.1:8000/healthz >/dev/null 2>&1; then break; fi
  sleep 2
done
"${PODMAN[@]}" ps --format '{{.Names}} {{.Status}}'

step "4. eakte init, then upload a scanned page and wait until it is searchable"
"${COMPOSE[@]}" exec web eakte init
"${COMPOSE[@]}" exec web eakte orgunit add 32 Ordnungsamt || true
printf 'stack clerk password\n' | "${PODMAN[@]}" exec -i eakte_web_1 \
  eakte user add sachb --role clerk --org-unit 32 --password-stdin || true
"${PYTHON:-python3}" - <<'EOF'
import io, re, ssl, time, urllib.parse, urllib.request, http.cookiejar
from PIL import Image, ImageDraw, ImageFont
base = "http://127.0.0.1:8000"
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
def csrf(html): return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
def post(path, fields, files=None):
    boundary = "eaktestack"
    body = b""
    for k, v in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for k, (name, data, ctype) in (files or {}).items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                 f'Content-Type: {ctype}\r\n\r\n').encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"})
    return web.open(req).read().decode()
page = web.open(base + "/login").read().decode()
post("/login", {"csrf_token": csrf(page), "tenant": "default", "username": "sachb", "password": "stack clerk password"})
page = web.open(base + "/passwort").read().decode()
post("/passwort", {"csrf_token": csrf(page), "new": "stack clerk password 2", "repeat": "stack clerk password 2"})
image = Image.new("L", (2480, 1200), 255)
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 64) if __import__("os").path.exists("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf") else ImageFont.load_default()
ImageDraw.Draw(image).text((150, 400), "Baugenehmigung Lindenstrasse", fill=0, font=font)
scan = io.BytesIO(); image.save(scan, "PNG", dpi=(300, 300))
page = web.open(base + "/hochladen/").read().decode()
answer = post("/hochladen/", {"csrf_token": csrf(page), "inbox": "32"}, {"files": ("scan.png", scan.getvalue(), "image/png")})
print("upload:", answer)
document = __import__("json").loads(answer)["results"][0]["document"]  # /dokumente/<uuid>
start = time.monotonic()
while time.monotonic() - start < 600:
    html = web.open(base + "/suche/?" + urllib.parse.urlencode({"q": "Lindenstrasse"})).read().decode()
    if f'href="{document}"' in html:  # the document among the hits, not just the query echoed
        print(f"searchable after {time.monotonic() - start:.0f} s (OCR by a worker container)")
        break
    time.sleep(5)
else:
    raise SystemExit("not searchable within 10 minutes")
EOF

step "5. eakte verify across the stack (PostgreSQL, Redis, SeaweedFS cluster)"
"${COMPOSE[@]}" exec web eakte verify

step "6. stop"
if [ "${1:-}" = "--purge" ]; then "${COMPOSE[@]}" down -v; else "${COMPOSE[@]}" down; fi
echo "total: $(( $(date +%s) - t0 )) s"
