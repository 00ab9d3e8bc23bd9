#!/usr/bin/env bash
# Start the suite (`creditflow up`) on free ports with SQLite in a temp dir, wait for every /readyz,
# run the TypeScript smoke program against it, stop the suite. Needs `make install` and `npm ci` done.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="$repo/.venv/bin/python"
work="$(mktemp -d)"
free_port() { "$python" -c 'from shared.broker import free_port; print(free_port())'; }

broker_port="$(free_port)"
declare -A ports
for service in customers credit collections survey; do
  ports[$service]="$(free_port)"
  upper="${service^^}"
  export "CREDITFLOW_${upper}_PORT=${ports[$service]}"
  export "CREDITFLOW_${upper}_DATA_DIR=$work/var"
  export "CREDITFLOW_${upper}_LOG_LEVEL=WARNING"
done

(cd "$work" && exec "$repo/.venv/bin/creditflow" up --broker-port "$broker_port") >"$work/suite.log" 2>&1 &
suite=$!
stop() {
  kill -TERM "$suite" 2>/dev/null || true
  wait "$suite" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT

deadline=$((SECONDS + 120))
for service in customers credit collections survey; do
  until curl -fsS "http://127.0.0.1:${ports[$service]}/readyz" >/dev/null 2>&1; do
    if ((SECONDS > deadline)) || ! kill -0 "$suite" 2>/dev/null; then
      echo "the suite did not become ready; its log:" >&2
      tail -50 "$work/suite.log" >&2
      exit 1
    fi
    sleep 0.5
  done
done

export CREDITFLOW_TOKEN="$("$repo/.venv/bin/creditflow" token --scope admin --ttl-hours 1)"
export CREDITFLOW_CUSTOMERS_URL="http://127.0.0.1:${ports[customers]}"
export CREDITFLOW_CREDIT_URL="http://127.0.0.1:${ports[credit]}"
export CREDITFLOW_COLLECTIONS_URL="http://127.0.0.1:${ports[collections]}"
export CREDITFLOW_SURVEY_URL="http://127.0.0.1:${ports[survey]}"
cd "$here"
npm run build >/dev/null
node dist/smoke/main.js
