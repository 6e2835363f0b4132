# Every target runs on the project's pinned Node 24 (npm package `node`), not the machine's.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
JEST := NODE_OPTIONS=--experimental-vm-modules jest
JEST_REPORTS := .cache/jest

.PHONY: all deps build typecheck lint format test test-unit test-integration test-e2e bench clean

all: build

# Install when node_modules is missing or older than the lock file. `npm install` rather than
# `npm ci`: the registry mirror these machines reach serves only this platform's optional
# binaries, so `npm ci` rejects the lock file as incomplete; `npm install` keeps the locked versions.
deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

build: deps
	tsc -p tsconfig.build.json

typecheck: deps
	tsc -p tsconfig.json --noEmit

lint: deps
	eslint .
	prettier --check .

format: deps
	prettier --write .

test: deps
	@rm -rf $(JEST_REPORTS) && mkdir -p $(JEST_REPORTS)
	$(MAKE) --no-print-directory lint typecheck test-unit test-integration test-e2e
	@node hack/test-summary.mjs $(JEST_REPORTS)

test-unit: deps
	@mkdir -p $(JEST_REPORTS)
	$(JEST) --selectProjects unit --json --outputFile=$(JEST_REPORTS)/unit.json

test-integration: deps
	@mkdir -p $(JEST_REPORTS)
	$(JEST) --selectProjects integration --passWithNoTests --json --outputFile=$(JEST_REPORTS)/integration.json

test-e2e: deps
	@mkdir -p $(JEST_REPORTS)
	$(JEST) --selectProjects e2e --passWithNoTests --json --outputFile=$(JEST_REPORTS)/e2e.json

bench: deps
	tsc -p tsconfig.bench.json
	node --expose-gc dist/bench/run.js $(BENCH_ARGS)

clean:
	rm -rf dist .cache
