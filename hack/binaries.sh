#!/usr/bin/env bash
# Builds the control-plane binaries that lib/testing and `make cluster-up` run, once per version,
# into a cache directory outside the repository, and prints that directory's path on stdout.
#
#   hack/binaries.sh            build what is missing (everything: etcd, kwok, helm, Kubernetes binaries)
#   hack/binaries.sh NAME...    only these, e.g. the cluster's: etcd kwok kube-apiserver ... (no helm)
#   hack/binaries.sh --check    build nothing; exit 1 with a one-line hint if something is missing
#   hack/binaries.sh --path B   build nothing; print binary B's path (kubectl, helm, ...), or exit 1
#                               with a one-line hint if that one is missing
#
# Layout: $STEWARD_BIN_DIR/<name>-<version>/<name>, default ~/.cache/steward/bin. The kwok
# directory also holds kwok's own stage configs under stages/. Versions come from
# hack/versions.env only.
#
# KUBEBUILDER_ASSETS, when set, names a directory of ready binaries (etcd, kube-apiserver, ...,
# and helm for the chart tests): nothing is built and lib/testing uses that directory.
#
# Everything comes from the Go module proxy (the only network these machines reach besides npm
# and Debian): k8s.io/kubernetes cannot be `go install`ed, because its go.mod replaces every
# staging module with ./staging/...; a throw-away module that requires it and replaces each
# staging module with its published v0.<minor>.<patch> version builds it. etcd likewise gets a
# wrapper main, since its own main module has replace directives too.
set -euo pipefail

# readlink -f: run through a symlink (node_modules/.bin/steward-binaries), look beside the real file.
HACK_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=versions.env
source "${HACK_DIR}/versions.env"

BIN_DIR="${STEWARD_BIN_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/steward/bin}"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

log() { echo "binaries: $*" >&2; }
die() {
  echo "binaries: $*" >&2
  exit 1
}

# path_of NAME VERSION -> where the cached binary lives.
path_of() { echo "${BIN_DIR}/$1-$2/$1"; }

# The binaries asked for (positional arguments; default all of them).
WANTED=" etcd kwok helm ${K8S_BINARIES[*]} "
wanted() { [[ "${WANTED}" == *" $1 "* ]]; }

missing() {
  local out=()
  wanted etcd && { [[ -x "$(path_of etcd "${ETCD_VERSION}")" ]] || out+=(etcd); }
  wanted kwok && { [[ -x "$(path_of kwok "${KWOK_VERSION}")" ]] || out+=(kwok); }
  wanted helm && { [[ -x "$(path_of helm "${HELM_VERSION}")" ]] || out+=(helm); }
  for b in "${K8S_BINARIES[@]}"; do
    wanted "$b" && { [[ -x "$(path_of "$b" "${KUBERNETES_VERSION}")" ]] || out+=("$b"); }
  done
  echo "${out[*]-}"
}

if [[ "${1:-}" == "--path" ]]; then
  name="${2:?usage: hack/binaries.sh --path NAME}"
  case "${name}" in
    etcd) version="${ETCD_VERSION}" ;;
    kwok) version="${KWOK_VERSION}" ;;
    helm) version="${HELM_VERSION}" ;;
    *) version="${KUBERNETES_VERSION}" ;;
  esac
  if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then path="${KUBEBUILDER_ASSETS}/${name}"; else path="$(path_of "${name}" "${version}")"; fi
  [[ -x "${path}" ]] || die "${name} is missing at ${path}; run 'make binaries' (needs Go >= ${GO_MINIMUM}) or put it in KUBEBUILDER_ASSETS"
  echo "${path}"
  exit 0
fi

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  for b in etcd kube-apiserver; do
    [[ -x "${KUBEBUILDER_ASSETS}/$b" ]] ||
      die "KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS} has no executable $b; unset it to build into ${BIN_DIR}, or put etcd and kube-apiserver there"
  done
  echo "${KUBEBUILDER_ASSETS}"
  exit 0
fi

if [[ "${1:-}" == "--check" ]]; then
  todo="$(missing)"
  [[ -z "$todo" ]] || die "missing in ${BIN_DIR}: ${todo}; run 'make binaries' (needs Go >= 1.26) or set KUBEBUILDER_ASSETS to a directory holding them"
  echo "${BIN_DIR}"
  exit 0
fi

if [[ $# -gt 0 && "${1}" != -* ]]; then
  for b in "$@"; do
    [[ " etcd kwok helm ${K8S_BINARIES[*]} " == *" $b "* ]] || die "unknown binary ${b} (known: etcd kwok helm ${K8S_BINARIES[*]})"
  done
  WANTED=" $* "
fi

mkdir -p "${BIN_DIR}"
# One builder at a time: `make test-integration` and `make test-e2e` may run side by side, and a
# second cold build would only double the time on two cores.
exec 9>"${BIN_DIR}/.lock"
flock 9

todo="$(missing)"
if [[ -z "$todo" ]]; then
  echo "${BIN_DIR}"
  exit 0
fi

command -v go >/dev/null 2>&1 ||
  die "Go is not installed and ${BIN_DIR} lacks: ${todo}; install Go >= ${GO_MINIMUM} (https://go.dev/dl) and rerun 'make binaries', or set KUBEBUILDER_ASSETS to a directory with etcd and kube-apiserver"

go_version="$(go env GOVERSION)"
go_minor="$(sed -n 's/^go1\.\([0-9]*\).*/\1/p' <<<"${go_version}")"
[[ -n "${go_minor}" ]] && ((go_minor >= ${GO_MINIMUM#1.})) ||
  die "${go_version} is too old for Kubernetes ${KUBERNETES_VERSION}: install Go >= ${GO_MINIMUM} and rerun 'make binaries', or set KUBEBUILDER_ASSETS"

export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
WORK="$(mktemp -d "${BIN_DIR}/.build.XXXXXX")"
trap 'rm -rf "${WORK}"' EXIT
START=$SECONDS

# install_dir NAME VERSION DIR: renames a freshly built directory to its versioned place in one
# rename, so an interrupted build never leaves a half-written binary that looks cached.
install_dir() {
  local name=$1 version=$2 src=$3
  local dest="${BIN_DIR}/${name}-${version}"
  rm -rf "${dest}"
  mv "${src}" "${dest}"
  log "$(du -h "${dest}/${name}" | cut -f1)	${dest}/${name}"
}

build_etcd() {
  local mod="${WORK}/etcd"
  mkdir -p "${mod}/out"
  cat >"${mod}/main.go" <<'EOF'
// Command etcd is etcd's own main, rebuilt outside its repository whose go.mod has replace
// directives that `go install` refuses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (
    cd "${mod}"
    go mod init steward.dev/hack/etcd >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null
    go mod tidy >/dev/null
    go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}" -o "out/etcd" .
  )
  install_dir etcd "${ETCD_VERSION}" "${mod}/out"
}

build_kwok() {
  local out="${WORK}/kwok"
  mkdir -p "${out}/stages"
  GOBIN="${out}" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}" \
    "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
  # v0.8.0 ships no built-in stages; its module carries the standard ones as kustomize files.
  local dir
  dir="$(go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  cp "${dir}/kustomize/stage/node/fast/node-initialize.yaml" "${out}/stages/node-initialize.yaml"
  cp "${dir}/kustomize/stage/node/heartbeat-with-lease/"*.yaml "${out}/stages/"
  cp "${dir}/kustomize/stage/pod/fast/"*.yaml "${out}/stages/"
  rm -f "${out}/stages/kustomization.yaml"
  chmod u+w "${out}/stages/"*
  install_dir kwok "${KWOK_VERSION}" "${out}"
}

build_helm() {
  local out="${WORK}/helm"
  # The module path carries the major version: helm.sh/helm/v4 for v4.x.
  local module="helm.sh/helm/${HELM_VERSION%%.*}"
  mkdir -p "${out}"
  GOBIN="${out}" go install -trimpath \
    -ldflags "-s -w -X ${module}/internal/version.version=${HELM_VERSION} -X ${module}/internal/version.gitTreeState=clean" \
    "${module}/cmd/helm@${HELM_VERSION}"
  install_dir helm "${HELM_VERSION}" "${out}"
}

build_kubernetes() {
  local mod="${WORK}/kubernetes" v="${KUBERNETES_VERSION}"
  local staging_version="v0.${v#v1.}"
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@${v}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [[ -f "${gomod}" ]] || die "could not download k8s.io/kubernetes@${v}"
  mkdir -p "${mod}/out"
  {
    echo "module steward.dev/hack/kubernetes"
    echo
    grep -E '^go [0-9]' "${gomod}"
    # Upstream pins GODEBUG defaults through this line; the binaries should behave as released.
    grep -E '^godebug ' "${gomod}" || true
    echo
    echo "require k8s.io/kubernetes ${v}"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*#\t\1 => \1 '"${staging_version}"'#p' "${gomod}"
    echo ")"
  } >"${mod}/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "// Package tools only pins the commands for go mod tidy."
    echo "package tools"
    echo
    echo "import ("
    for b in "${K8S_BINARIES[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/${b}\""; done
    echo ")"
  } >"${mod}/tools.go"

  local minor="${v#v1.}"
  minor="${minor%%.*}"
  local ldflags="-s -w" key val
  for pair in "gitVersion=${v}" "gitMajor=1" "gitMinor=${minor}" "gitTreeState=clean" \
    "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    key="${pair%%=*}" val="${pair#*=}"
    ldflags+=" -X k8s.io/component-base/version.${key}=${val} -X k8s.io/client-go/pkg/version.${key}=${val}"
  done
  local pkgs=()
  for b in "${K8S_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  (
    cd "${mod}"
    go mod tidy >/dev/null
    # One `go build` for all of them, so the packages they share compile once.
    go build -trimpath -ldflags "${ldflags}" -o out/ "${pkgs[@]}"
  )
  for b in "${K8S_BINARIES[@]}"; do
    mkdir -p "${WORK}/k8s-$b"
    mv "${mod}/out/$b" "${WORK}/k8s-$b/$b"
    install_dir "$b" "${v}" "${WORK}/k8s-$b"
  done
}

log "building into ${BIN_DIR}: ${todo} (a cold Kubernetes build takes 10-25 min on 2 cores)"
# `if`, not `&&`: bash ignores `set -e` inside a function called from an && list.
if [[ " ${todo} " == *" etcd "* ]]; then build_etcd; fi
if [[ " ${todo} " == *" kwok "* ]]; then build_kwok; fi
if [[ " ${todo} " == *" helm "* ]]; then build_helm; fi
for b in "${K8S_BINARIES[@]}"; do
  if [[ " ${todo} " == *" $b "* ]]; then
    build_kubernetes
    break
  fi
done
log "done in $((SECONDS - START)) s"
echo "${BIN_DIR}"
