#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with schemathesis (from PyPI, in a
# virtualenv) and fails on any 5xx. Starts a throwaway server with demo data on port 8089.
source "$(dirname "$0")/common.sh"
esurat_install_packages python3-venv
cd "$esurat_root"
venv="${TMPDIR:-/tmp}/esurat-fuzz-venv"
[ -x "$venv/bin/schemathesis" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis; }
swift build --product esurat
data="$(mktemp -d)"
chmod 755 "$data"
log="$data/serve.log"
"$(swift build --show-bin-path)/esurat" serve --data-dir "$data" --port 8089 --seed-demo --log-level warning >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:8089/readyz >/dev/null && break; sleep 1; done
token=$(curl -s -X POST http://127.0.0.1:8089/api/v1/auth/login -H 'content-type: application/json' \
    -d '{"username": "diskominfo.kepala", "password": "esurat-demo-2026"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$venv/bin/schemathesis" run http://127.0.0.1:8089/openapi.yaml --url http://127.0.0.1:8089 \
    -H "Authorization: Bearer $token" --checks not_a_server_error --max-examples "${EXAMPLES:-100}" \
    --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/login
"$venv/bin/schemathesis" run http://127.0.0.1:8089/openapi.yaml --url http://127.0.0.1:8089 \
    --checks not_a_server_error --max-examples "${EXAMPLES:-100}" --include-path /api/v1/auth/login
