# wellstream: the two commands are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CACHE := $(CURDIR)/.cache
UV_BIN := $(shell command -v uv 2>/dev/null)
ifeq ($(UV_BIN),)
UV_BIN := $(CACHE)/bootstrap/bin/uv
endif
UV := $(UV_BIN)
PY := $(UV) run --frozen

.PHONY: help install run test lint typecheck unit bench chaos fuzz migrate up down clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(CACHE)/bootstrap/bin/uv:
	python3 -m venv $(CACHE)/bootstrap
	$(CACHE)/bootstrap/bin/pip install --quiet --disable-pip-version-check uv

install: $(UV)  ## install Python deps (with the embedded engine), Kafka jars, redis-server, promtool, the dashboard, chromium
	$(UV) sync --frozen --all-extras
	scripts/kafka.sh fetch
	scripts/redis.sh ensure
	scripts/promtool.sh ensure
	scripts/ui.sh ensure
	scripts/chromium.sh ensure

run: install  ## run Kafka, embedded ClickHouse and all four services locally (Ctrl-C stops)
	$(PY) wellstream run

test: install  ## lint, type-check, every test against the real broker, chDB and Redis, coverage
	$(PY) ruff format --check .
	$(PY) ruff check .
	$(PY) mypy libs services src tests
	scripts/ui.sh check
	$(PY) pytest --basetemp=$(CACHE)/pytest --cov --cov-report=term

lint:  ## ruff format + lint, fixing what can be fixed
	$(PY) ruff format .
	$(PY) ruff check --fix .

unit: $(UV)  ## fast unit tests only
	$(UV) sync --frozen --all-extras
	$(PY) pytest tests/unit

bench: install  ## throughput and latency benchmarks (prints medians and ratios)
	$(PY) wellstream bench

chaos: install  ## the fault suite at 1M records (own broker and Redis), with a table of counts
	$(PY) python -m wellstream.chaos run --records $${WELLSTREAM_CHAOS_RECORDS:-1000000}

fuzz: install  ## fuzz both APIs from their OpenAPI documents, WELLSTREAM_FUZZ_REQUESTS each (10,000)
	WELLSTREAM_FUZZ_REQUESTS=$${WELLSTREAM_FUZZ_REQUESTS:-10000} $(PY) pytest tests/integration/test_fuzz.py \
		-s -q -p no:cacheprovider --timeout 0 --basetemp=$(CACHE)/fuzz

migrate: $(UV)  ## apply ClickHouse migrations to WELLSTREAM_CLICKHOUSE_URL
	$(PY) wellstream migrate

up:  ## run the stack in containers (needs a Docker engine)
	docker compose up -d --build

down:  ## stop the containers
	docker compose down

clean:  ## remove local data (Kafka log, ClickHouse data)
	rm -rf .data
