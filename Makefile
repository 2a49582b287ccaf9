# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export ECHOTUNE_HOME ?= $(CURDIR)/data
export GX_ANALYTICS_ENABLED := false
export OPENBLAS_NUM_THREADS := 1
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
DATA ?=
BENCH_PLAYS ?= 1000000
DAGSTER_PORT ?= 3000
STREAMLIT_PORT ?= 8501

.PHONY: help install browser deploy-tools demo test bench clean

help:
	@echo "make demo   install, import data, materialize every asset, start Dagster UI + Streamlit"
	@echo "make test   install and run the whole test suite"
	@echo "make bench  run the benchmarks in bench/ (import, serving, ALS, chat, Spotify sync; BENCH_PLAYS=10000000 for the 10M figures)"

$(UV):
	@command -v uv >/dev/null 2>&1 || { python3 -m venv $(CURDIR)/.tools && $(CURDIR)/.tools/bin/pip install -q uv; }

install: $(UV)
	$(UV) sync --frozen

# Debian's chromium for the browser test; where it cannot be installed the test reports a visible skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the browser test will be skipped"; \
	  else echo "chromium not installed and no root apt-get: the browser test will be skipped"; fi; }

# Debian's PostgreSQL server and docker-compose (which validates docker-compose.yml with no Docker daemon) for
# tests/test_deployment.py; where they cannot be installed those tests report a visible skip.
deploy-tools:
	@missing=""; \
	{ ls /usr/lib/postgresql/*/bin/initdb || command -v initdb; } >/dev/null 2>&1 || missing="postgresql"; \
	command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	      || echo "$$missing could not be installed: the deployment tests will be skipped"; \
	  else echo "$$missing not installed and no root apt-get: the deployment tests will be skipped"; fi; }

demo: install
	$(UV) run --frozen echotune demo $(if $(DATA),--data "$(DATA)") --dagster-port $(DAGSTER_PORT) --streamlit-port $(STREAMLIT_PORT)

test: install browser deploy-tools
	$(UV) run --frozen pytest

bench: install
	$(UV) run --frozen python bench/ingest.py --plays $(BENCH_PLAYS)
	$(UV) run --frozen python bench/recommend.py
	$(UV) run --frozen python bench/als.py
	$(UV) run --frozen python bench/chat.py
	$(UV) run --frozen python bench/spotify_sync.py --plays $(BENCH_PLAYS)

clean:
	rm -rf data .dagster_home/storage .dagster_home/logs .dagster_home/history .dagster_home/schedules
