#!/usr/bin/env bash
# Installs Debian packages the tests need (Chromium and a font for it), only when missing.
# Extra package names may follow: `postgresql` brings the server binaries the tests and
# benchmarks start (tests/local_postgres.py) and pgbench, which bench/ledger.py runs: Debian
# ships pgbench in the server package (postgresql-NN, under /usr/lib/postgresql/NN/bin).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
for extra in "$@"; do
  dpkg -s "$extra" >/dev/null 2>&1 || missing+=("$extra")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for extra in "$@"; do
  if [ "$extra" = postgresql ] && ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; then
    echo "pgbench not found under /usr/lib/postgresql/*/bin although postgresql is installed" >&2
    exit 1
  fi
done
