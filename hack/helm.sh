#!/usr/bin/env bash
# helm at the pinned version (HELM_VERSION in hack/versions.env, built by hack/binaries.sh).
#   hack/helm.sh template steward charts/steward
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$("${HACK_DIR}/binaries.sh" --path helm)" "$@"
