#!/usr/bin/env bash
# Sets up everything the tests need and runs the whole suite: unit, integration, browser (Debian
# chromium through Playwright, axe-core for accessibility) and PostgreSQL tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# Debian's chromium for the browser tests (no downloaded browser builds).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian chromium for the browser tests"
  apt_install chromium
fi
export LOTSA_TEST_CHROMIUM=/usr/bin/chromium

# Debian's nginx for the scale-out test (the sample site of deploy/ in front of two workers); the
# test runs it as its own process on a free port, so the system's nginx service is never started.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "installing Debian nginx for the reverse-proxy test"
  apt_install nginx
fi

# PostgreSQL for the scale-out tests: installed and started when missing.
if [ -z "${LOTSA_TEST_POSTGRES_URL:-}" ]; then
  if ! command -v pg_isready >/dev/null; then
    echo "installing PostgreSQL for the postgres tests"
    apt_install postgresql
  fi
  if ! pg_isready -q -h 127.0.0.1; then
    echo "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
  fi
  if psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    export LOTSA_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1/postgres"
  else
    # A fresh Debian cluster asks for a password over TCP: give the test role one.
    as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'lotsa-test'\""
    export LOTSA_TEST_POSTGRES_URL="postgresql+asyncpg://postgres:lotsa-test@127.0.0.1/postgres"
  fi
fi

# axe-core for the accessibility tests: a test tool from the npm registry, never shipped with Lotsa.
AXE=.cache/axe/node_modules/axe-core/axe.min.js
if [ ! -f "$AXE" ]; then
  if ! command -v npm >/dev/null; then
    echo "installing node and npm for the accessibility tests"
    apt_install nodejs npm
  fi
  echo "installing axe-core into .cache/axe"
  npm install --no-save --no-audit --no-fund --silent --prefix .cache/axe axe-core@4
fi

. scripts/setup-venv.sh
lotsa_venv "[test]"
.venv/bin/ruff check --quiet
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
