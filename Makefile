# Creditflow — the two commands a new user types: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
COMPOSE := docker compose -f deploy/compose.yaml
PYTEST_ARGS ?=
# The suite runs in two worker processes (pytest-xdist), each with its own broker and databases: most of a
# test's time is the app, the database and the broker answering, so two workers keep both cores busy.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal,)
BENCH_ARGS ?=

.PHONY: run test install lint lint-api format bench chaos docs clients smoke lock clean image compose-up compose-down \
        compose-ps compose-logs lint-deploy k8s-render settings-table test-postgres test-unit test-fast hooks console \
        test-console console-types

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install the project with its dev tools

run: $(STAMP) ## migrate and start the broker, the four services and the console on :8000 (SQLite under var/); Ctrl-C stops all
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory console; \
	else echo "npm not found: the console is not built; the services run without it"; fi
	$(BIN)/creditflow up

CONSOLE_SOURCES := $(shell find console/src -type f 2>/dev/null) console/index.html console/vite.config.ts console/tsconfig.json

console/node_modules/.package-lock.json: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund

console/dist/index.html: console/node_modules/.package-lock.json $(CONSOLE_SOURCES)
	cd console && npm run build

console: console/dist/index.html ## build the web console (needs npm) into console/dist, served by `creditflow up` on :8000

console-types: $(STAMP) console/node_modules/.package-lock.json ## regenerate console/src/api/*.ts from the services' OpenAPI
	cd console && npm run gen

test-console: $(STAMP) console ## the console's unit tests (Vitest), build, and end-to-end tests in Chromium (/usr/bin/chromium)
	@tools/system-deps.sh --console
	cd console && npm test
	cd console && npm run e2e

test: $(STAMP) ## run the test suite (SQLite; set CREDITFLOW_TEST_DATABASE_URL for PostgreSQL)
	@tools/system-deps.sh
	$(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-postgres: $(STAMP) ## the test suite against the local PostgreSQL (one database per service, made by the tests)
	@tools/system-deps.sh
	CREDITFLOW_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres $(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-unit: $(STAMP) ## the pure domain and shared unit tests (seconds): the inner loop
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

test-fast: $(STAMP) ## everything but the tests that need the real broker or start processes (no broker, no e2e)
	$(BIN)/pytest -q -m "not broker and not e2e" $(PYTEST_PARALLEL) $(PYTEST_ARGS)

lint: $(STAMP) ## what CI checks: ruff lint and format, the import contracts, strict mypy on shared/ and every domain/
	$(BIN)/ruff check shared services tests bench deploy
	$(BIN)/ruff format --check shared services tests bench deploy
	$(BIN)/lint-imports
	$(BIN)/mypy shared services/*/domain

hooks: $(STAMP) ## install the git pre-commit hook (the same checks as make lint, on the files you commit)
	$(BIN)/pre-commit install

format: $(STAMP)
	$(BIN)/ruff format shared services tests bench deploy

bench: $(STAMP) ## benchmarks (not tests): ONE table of every path of issue 11 vs its baseline (BENCH_ARGS=--quick)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

chaos: $(STAMP) ## kill -9 the broker and each service under a workload on PostgreSQL; check the invariants (not a test)
	$(BIN)/python bench/chaos.py


docs: $(STAMP) ## OpenAPI of each service and the AsyncAPI of the events, under docs/api/ (committed; refuses a breaking change without a new major version)
	@mkdir -p var/docs-new
	for s in customers credit collections survey; do \
	  $(BIN)/creditflow openapi $$s --out var/docs-new/$$s.openapi.json && \
	  { [ ! -f docs/api/$$s.openapi.json ] || $(BIN)/creditflow api-diff docs/api/$$s.openapi.json var/docs-new/$$s.openapi.json; } \
	  || exit 1; done
	$(BIN)/creditflow asyncapi --out var/docs-new/events.asyncapi.json
	mkdir -p docs/api && cp var/docs-new/*.json docs/api/

NPM_DIR := clients/typescript
NPM_STAMP := $(NPM_DIR)/node_modules/.installed
$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

lint-api: $(NPM_STAMP) ## Redocly (recommended) and Spectral (oas, asyncapi) over the committed docs/api/
	cd $(NPM_DIR) && npx redocly lint --config ../../redocly.yaml ../../docs/api/*.openapi.json
	cd $(NPM_DIR) && npx spectral lint --fail-severity=hint --ruleset ../../.spectral.yaml ../../docs/api/*.openapi.json ../../docs/api/events.asyncapi.json

clients: $(NPM_STAMP) ## the TypeScript client: types generated from docs/api/, then compiled (strict)
	cd $(NPM_DIR) && npm run generate && npm run build

smoke: $(STAMP) $(NPM_STAMP) ## the TypeScript smoke program against a fresh local suite (free ports, SQLite in a temp dir)
	$(NPM_DIR)/smoke/run.sh

image: ## container image of the suite (needs a Docker engine)
	docker build -f deploy/Dockerfile -t $${CREDITFLOW_IMAGE:-creditflow:dev} .

compose-up: ## the suite on Apache Kafka and PostgreSQL with Docker Compose
	$(COMPOSE) up -d --build

compose-down:
	$(COMPOSE) down

compose-ps:
	$(COMPOSE) ps -a

compose-logs:
	$(COMPOSE) logs -f

lint-deploy: $(STAMP) ## offline validation of the Dockerfile, Compose and Kubernetes files
	$(BIN)/pytest tests/deploy -q

k8s-render:
	kubectl kustomize deploy/k8s/overlays/$(or $(OVERLAY),prod)

settings-table: $(STAMP)
	$(BIN)/python deploy/gen_settings_table.py --write

lock: ## re-pin constraints.txt from a fresh install of pyproject
	rm -rf /tmp/creditflow-lock && $(PYTHON) -m venv /tmp/creditflow-lock
	/tmp/creditflow-lock/bin/pip install --quiet ".[dev]"
	{ head -2 constraints.txt; /tmp/creditflow-lock/bin/pip freeze --exclude creditflow; } > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
