#!/usr/bin/env bash
# kubectl at the pinned Kubernetes version (built by hack/binaries.sh), pointed at the local
# cluster of `make cluster-up` unless KUBECONFIG or --kubeconfig says otherwise.
#   hack/kubectl.sh get nodes
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBECTL="$("${HACK_DIR}/binaries.sh" --path kubectl)"
CLUSTER_DIR="${STEWARD_CLUSTER_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/steward/cluster}"
export KUBECONFIG="${KUBECONFIG:-${CLUSTER_DIR}/kubeconfig}"
exec "${KUBECTL}" "$@"
