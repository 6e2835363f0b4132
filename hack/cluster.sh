#!/usr/bin/env bash
# A persistent local cluster for people (and `make run`): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok with fake nodes, running detached.
#
#   hack/cluster.sh up       start it (no-op if it runs); prints the kubeconfig path
#   hack/cluster.sh down     stop it and remove its state
#   hack/cluster.sh status   exit 0 if it runs
#
# The kubeconfig is $STEWARD_CLUSTER_DIR/kubeconfig (default ~/.cache/steward/cluster/kubeconfig);
# component logs are in $STEWARD_CLUSTER_DIR/logs. `up` expects hack/cluster.ts compiled to
# dist/cluster (the Makefile does that) and the binaries built (`make binaries`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="${STEWARD_CLUSTER_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/steward/cluster}"
PID_FILE="${CLUSTER_DIR}/pid"
export STEWARD_CLUSTER_DIR="${CLUSTER_DIR}"

running() {
  [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null
}

up() {
  if running && [[ -f "${CLUSTER_DIR}/ready" ]]; then
    echo "cluster: already running; kubeconfig: ${CLUSTER_DIR}/kubeconfig"
    return
  fi
  running && down
  mkdir -p "${CLUSTER_DIR}"
  local start=$SECONDS
  # setsid: its own session, so the cluster outlives this shell and a Ctrl-C in it.
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  nohup "${launcher[@]}" node "${ROOT}/dist/cluster/hack/cluster.js" >"${CLUSTER_DIR}/cluster.log" 2>&1 </dev/null &
  echo $! >"${PID_FILE}"
  while [[ ! -f "${CLUSTER_DIR}/ready" ]]; do
    if ! running; then
      echo "cluster: failed to start; ${CLUSTER_DIR}/cluster.log says:" >&2
      tail -n 30 "${CLUSTER_DIR}/cluster.log" >&2
      rm -f "${PID_FILE}"
      exit 1
    fi
    if ((SECONDS - start > 180)); then
      echo "cluster: not ready after 180 s; see ${CLUSTER_DIR}/cluster.log" >&2
      down
      exit 1
    fi
    sleep 0.2
  done
  echo "cluster: up in $((SECONDS - start)) s; kubeconfig: ${CLUSTER_DIR}/kubeconfig"
  echo "  kubectl --kubeconfig ${CLUSTER_DIR}/kubeconfig get nodes   (or: hack/kubectl.sh get nodes)"
}

down() {
  if ! running; then
    rm -f "${PID_FILE}" "${CLUSTER_DIR}/ready" "${CLUSTER_DIR}/kubeconfig"
    echo "cluster: not running"
    return
  fi
  local pid
  pid="$(cat "${PID_FILE}")"
  kill -TERM "${pid}"
  for _ in $(seq 1 300); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "${pid}" 2>/dev/null; then
    # Its watchdog removes the components once the runner is gone.
    echo "cluster: runner ${pid} did not stop in 30 s; killing it" >&2
    kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "${PID_FILE}" "${CLUSTER_DIR}/ready" "${CLUSTER_DIR}/kubeconfig"
  echo "cluster: down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) running && [[ -f "${CLUSTER_DIR}/ready" ]] ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
