#!/usr/bin/env bash
# Makes sure Prometheus and promtool are installed (Debian's `prometheus` package), for the e2e
# tests that scrape the operator and check the alert rules. Prints the prometheus path.
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  command -v prometheus
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "hack/prometheus.sh: prometheus and promtool are missing and there is no apt-get; install Prometheus 2.x and put prometheus and promtool on PATH" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "hack/prometheus.sh: prometheus and promtool are missing; run as root (apt-get install prometheus) or install them yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
{
  apt-get update -q
  # The package's service is not started: there is no init system here, and the tests run their own.
  apt-get install -y -q --no-install-recommends prometheus
} >&2
command -v prometheus
