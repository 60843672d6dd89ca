#!/usr/bin/env bash
# Installs Debian packages the tests need (Chromium and a font for it), only when missing.
# Extra package names may follow: `postgresql` brings the server binaries the tests and
# benchmarks start (tests/local_postgres.py) and pgbench, which bench/ledger.py runs: Debian
# ships pgbench in the server package (postgresql-NN, under /usr/lib/postgresql/NN/bin);
# `poppler-utils` brings pdftotext, which the invoice tests read PDFs with; `redis-server`
# the Redis the job queue tests and the cluster start (tests/local_redis.py).
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
  # Other installs may hold dpkg's lock for a while: wait for it rather than fail.
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
for extra in "$@"; do
  if [ "$extra" = postgresql ] && ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; then
    echo "pgbench not found under /usr/lib/postgresql/*/bin although postgresql is installed" >&2
    exit 1
  fi
done
