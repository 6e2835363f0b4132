#!/usr/bin/env bash
# Builds the controller-runtime peer (bench/peer, a Go module with its versions pinned in its
# go.mod and go.sum) once per source, into the binaries cache outside the repository, and
# prints the binary's path on stdout. `make bench` uses it; `make test` never does.
#
# Layout: $STEWARD_BIN_DIR/peer-<hash>/peer, default ~/.cache/steward/bin, where <hash> covers
# bench/peer's Go files, go.mod, go.sum and the Go version, so an edit rebuilds and a
# checkout of the same sources reuses the binary (about 1 min cold, with the modules cached).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER_DIR="${ROOT}/bench/peer"
BIN_DIR="${STEWARD_BIN_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/steward/bin}"

command -v go >/dev/null 2>&1 ||
  { echo "peer: Go is not installed; install Go >= 1.26 (https://go.dev/dl) to build bench/peer" >&2; exit 1; }

# Everything from the Go module proxy, with the installed Go and the module's own go.sum.
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly

hash="$(
  cd "${PEER_DIR}"
  { go env GOVERSION; cat go.mod go.sum; for f in $(ls ./*.go | sort); do echo "$f"; cat "$f"; done; } |
    sha256sum | cut -c1-16
)"
dest="${BIN_DIR}/peer-${hash}"
if [[ -x "${dest}/peer" ]]; then
  echo "${dest}/peer"
  exit 0
fi

mkdir -p "${BIN_DIR}"
exec 9>"${BIN_DIR}/.peer.lock"
flock 9
if [[ ! -x "${dest}/peer" ]]; then
  echo "peer: building bench/peer into ${dest}" >&2
  work="$(mktemp -d "${BIN_DIR}/.peer-build.XXXXXX")"
  trap 'rm -rf "${work}"' EXIT
  (cd "${PEER_DIR}" && go build -trimpath -ldflags "-s -w" -o "${work}/peer" .)
  rm -rf "${dest}"
  mv "${work}" "${dest}"
fi
echo "${dest}/peer"
