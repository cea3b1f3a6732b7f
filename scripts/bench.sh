#!/usr/bin/env bash
# The throughput benchmark with everything it compares: nginx (Debian) and Hurl 8.0.1 (built
# with cargo after the libcurl, libxml2 and libclang dev packages) are installed when missing,
# then `cargo bench --bench throughput` prints the tables docs/benchmarks.md quotes.
#
#   scripts/bench.sh               # installs what is missing (apt-get needs root), then runs
#   scripts/bench.sh --no-install  # runs with what is there; missing clients are said so
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --no-install ]; then
  if ! command -v nginx >/dev/null || ! dpkg -s libcurl4-openssl-dev libxml2-dev libclang-dev >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "nginx or Hurl's build dependencies are missing; run as root to install them" >&2
      exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nginx libcurl4-openssl-dev libxml2-dev libclang-dev pkg-config >/dev/null
  fi
  if ! command -v hurl >/dev/null || ! hurl --version | grep -q '^hurl 8.0.1'; then
    cargo install --locked hurl --version 8.0.1
  fi
fi
cargo bench --bench throughput
