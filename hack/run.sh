#!/usr/bin/env bash
# `make run`: the local cluster (started if needed), the CRDs, the operator in the foreground,
# and the sample Sessions, Workflows and Schedules. Ctrl-C stops the operator; `make cluster-down` removes
# the cluster. Expects `make build` and `make binaries` done (the Makefile does both).
#
#   METRICS_ADDR (default 127.0.0.1:8080) and HEALTH_ADDR (default 127.0.0.1:8081) move the
#   operator's servers; RUNNER_IMAGE sets its --runner-image (default busybox:1.36);
#   STEWARD_CLUSTER_DIR moves the cluster (default ~/.cache/steward/cluster).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="${STEWARD_CLUSTER_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/steward/cluster}"
KUBECONFIG_PATH="${CLUSTER_DIR}/kubeconfig"
METRICS_ADDR="${METRICS_ADDR:-127.0.0.1:8080}"
HEALTH_ADDR="${HEALTH_ADDR:-127.0.0.1:8081}"
kubectl() { KUBECONFIG="${KUBECONFIG_PATH}" "${ROOT}/hack/kubectl.sh" "$@"; }

"${ROOT}/hack/cluster.sh" up
# Every CRD in manifests/crd (Session, Workflow, and the other kinds' as they come).
kubectl apply -k "${ROOT}/manifests/crd" | sed 's/^/run: applied /'
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null

# The flags the image runs it with (bin/node-flags.js).
node --max-semi-space-size=4 --heap-growing-percent=20 "${ROOT}/dist/cmd/manager.js" \
  --kubeconfig "${KUBECONFIG_PATH}" \
  --dev-mode \
  --runner-image "${RUNNER_IMAGE:-busybox:1.36}" \
  --metrics-bind-address "${METRICS_ADDR}" \
  --health-probe-bind-address "${HEALTH_ADDR}" &
operator=$!
trap 'kill -TERM "${operator}" 2>/dev/null || true' INT TERM

for _ in $(seq 1 300); do
  if curl -fsS "http://${HEALTH_ADDR}/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${operator}" 2>/dev/null; then
    echo "run: the operator exited during start-up" >&2
    exit 1
  fi
  sleep 0.2
done
kubectl apply -f "${ROOT}/manifests/samples/" | sed 's/^/run: applied /'
cat <<MSG

run: the operator is running (Ctrl-C stops it; make cluster-down removes the cluster).
  Pods are simulated by kwok: no container runs; the samples' steward.dev/fake-* annotations
  pick each pod's exit code and run time (see README.md, "Simulated pods").
  in another shell:   export KUBECONFIG=${KUBECONFIG_PATH}
  the samples:        npx stewardctl list -w      (hello succeeds, flaky retries, sleepy times out)
  the Workflows:      npx stewardctl list wf -w   (diamond, fan-out succeed; failing-stop, failing-continue fail)
  a Workflow's DAG:   npx stewardctl describe wf/diamond
  one Session:        npx stewardctl describe hello
  a Schedule:         npx stewardctl describe sched/heartbeat   (its next 5 times)
  submit and wait:    npx stewardctl submit --image busybox:1.36 --command echo hi --wait
  kubectl:            hack/kubectl.sh get sessions
  metrics:            curl http://${METRICS_ADDR}/metrics
  health:             curl http://${HEALTH_ADDR}/readyz

MSG
set +e
wait "${operator}"
code=$?
# A second wait: the first returns early when the trap fires.
wait "${operator}" 2>/dev/null
exit "${code}"
