#!/usr/bin/env bash
# Sets up Lotsa in .venv and runs the demo on a fresh SQLite file (./var/demo.db).
# Extra arguments go to `lotsa demo` (e.g. --port 8081).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-venv.sh
lotsa_venv ""
exec .venv/bin/lotsa demo "$@"
