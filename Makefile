# Every target runs on the project's pinned Node 24 (npm package `node`), not the machine's.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
JEST := NODE_OPTIONS=--experimental-vm-modules jest
JEST_REPORTS := .cache/jest

.PHONY: all deps build typecheck lint format test test-unit test-integration test-e2e bench clean \
	binaries cluster-binaries cluster-up cluster-down run prometheus chart docs docs-check

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

# The API reference of the public exports (steward, steward/testing, steward/session, steward/workflow) in docs/api/.
docs: deps
	typedoc

# The same checks without writing it (part of make test): every export documented, every
# {@link} resolved, no public type left unexported; warnings are errors (typedoc.json). Without
# source links, which need a git remote: in a checkout without one (a worktree, a local clone),
# that warning would stop typedoc before it checks the documentation.
docs-check: deps
	typedoc --emit none --disableSources

format: deps
	prettier --write .

test: deps
	@rm -rf $(JEST_REPORTS) && mkdir -p $(JEST_REPORTS)
	$(MAKE) --no-print-directory lint typecheck docs-check test-unit test-integration test-e2e
	@node hack/test-summary.mjs $(JEST_REPORTS)

test-unit: deps
	@mkdir -p $(JEST_REPORTS)
	$(JEST) --selectProjects unit --json --outputFile=$(JEST_REPORTS)/unit.json

# Integration and e2e tests run the compiled operator and fixtures as real processes: build first.
test-integration: deps binaries build
	@mkdir -p $(JEST_REPORTS)
	$(JEST) --selectProjects integration --json --outputFile=$(JEST_REPORTS)/integration.json

test-e2e: deps binaries build prometheus
	@mkdir -p $(JEST_REPORTS)
	$(JEST) --selectProjects e2e --json --outputFile=$(JEST_REPORTS)/e2e.json

# Control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# kwok) and helm, built once per version from Go modules into ~/.cache/steward/bin (STEWARD_BIN_DIR);
# seconds when cached, 10-25 min cold. Nothing is built when KUBEBUILDER_ASSETS is set.
binaries:
	@hack/binaries.sh >/dev/null

# Only what a local cluster runs (make run, make cluster-up): no helm, 3.5 min less on a cold machine.
CLUSTER_BINARIES := etcd kwok kube-apiserver kube-controller-manager kube-scheduler kubectl
cluster-binaries:
	@hack/binaries.sh $(CLUSTER_BINARIES) >/dev/null

# The Helm chart, linted and packaged into dist/charts/ (its links to manifests/ become files).
chart: binaries
	hack/helm.sh lint --strict charts/steward 2>/dev/null
	hack/helm.sh package charts/steward --destination dist/charts 2>/dev/null

# Prometheus and promtool (Debian's package) for the e2e tests of the metrics and alert rules.
prometheus:
	@hack/prometheus.sh >/dev/null

# The local cluster, the CRD, the operator in the foreground and the samples (Ctrl-C stops it).
run: deps cluster-binaries build
	@tsc -p hack/tsconfig.cluster.json
	@hack/run.sh

# A detached local cluster with kwok nodes; kubeconfig at ~/.cache/steward/cluster/kubeconfig.
cluster-up: deps cluster-binaries
	@tsc -p hack/tsconfig.cluster.json
	@hack/cluster.sh up

cluster-down:
	@hack/cluster.sh down

# Benchmarks, Steward beside the controller-runtime peer (bench/peer, built by hack/peer.sh into
# the binaries cache); `make bench BENCH_ARGS="workqueue sessions"` runs only those.
bench: deps binaries
	tsc -p tsconfig.build.json
	tsc -p tsconfig.bench.json
	@hack/peer.sh >/dev/null
	node --expose-gc dist/bench/run.js $(BENCH_ARGS)

clean:
	rm -rf dist .cache
