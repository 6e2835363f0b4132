#!/usr/bin/env bash
# kubectl at the pinned Kubernetes version (built by hack/binaries.sh), pointed at the local
# cluster of `make cluster-up` unless KUBECONFIG or --kubeconfig says otherwise.
#   hack/kubectl.sh get nodes
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${HACK_DIR}/versions.env"
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  KUBECTL="${KUBEBUILDER_ASSETS}/kubectl"
else
  KUBECTL="$("${HACK_DIR}/binaries.sh" --check)/kubectl-${KUBERNETES_VERSION}/kubectl"
fi
CLUSTER_DIR="${STEWARD_CLUSTER_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/steward/cluster}"
export KUBECONFIG="${KUBECONFIG:-${CLUSTER_DIR}/kubeconfig}"
exec "${KUBECTL}" "$@"
