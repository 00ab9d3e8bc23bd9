#!/usr/bin/env bash
# Generate the Python clients of all four APIs with openapi-python-client (in a throw-away venv, not a
# project dependency), serve customers on a free port with SQLite in a temp dir, and check that a 404
# parses as a Problem. Needs `make install` done.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'kill -TERM "${server:-0}" 2>/dev/null || true; wait "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet -r "$here/requirements.txt"
for service in customers credit collections survey; do
  "$work/venv/bin/openapi-python-client" generate --meta none \
    --path "$repo/docs/api/$service.openapi.json" --output-path "$work/clients/${service}_client" >/dev/null 2>&1
done
# Every operation of credit's policy returns the typed PolicyRead (it used to be dropped: Any).
grep -q -- "-> PolicyRead | Problem | None" "$work/clients/credit_client/api/policy/get_policy.py"

port="$("$repo/.venv/bin/python" -c 'from shared.broker import free_port; print(free_port())')"
export CREDITFLOW_CUSTOMERS_PORT="$port" CREDITFLOW_CUSTOMERS_DATA_DIR="$work/var"
export CREDITFLOW_CUSTOMERS_RELAY_ENABLED=false CREDITFLOW_CUSTOMERS_CONSUMER_ENABLED=false
export CREDITFLOW_CUSTOMERS_KAFKA_CREATE_TOPICS=false CREDITFLOW_CUSTOMERS_LOG_LEVEL=WARNING
(cd "$work" && "$repo/.venv/bin/creditflow" migrate --service customers >/dev/null 2>&1)
(cd "$work" && exec "$repo/.venv/bin/creditflow" serve customers) &
server=$!
for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$port/livez" >/dev/null 2>&1 && break; sleep 0.5; done

export CREDITFLOW_CUSTOMERS_URL="http://127.0.0.1:$port"
export CREDITFLOW_TOKEN="$("$repo/.venv/bin/creditflow" token --scope admin --ttl-hours 1)"
# The generated packages need only httpx and attrs, both in the project's venv.
PYTHONPATH="$work/clients" "$repo/.venv/bin/python" "$here/check.py"
echo "python client check: OK"
