#!/usr/bin/env bash
# Prints how long the README's setup takes in a fresh clone with a fresh venv and no pip cache,
# and how long the whole test suite then takes. Run from anywhere inside the repository.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d /tmp/lotsa-timing-XXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/lotsa"
cd "$work/lotsa"
. scripts/setup-venv.sh
start=$(date +%s%N)
PIP_NO_CACHE_DIR=1 lotsa_venv "[test]"
setup_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
./scripts/test.sh -q -p no:cacheprovider | tail -1
suite_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "setup of a fresh venv (no pip cache): $((setup_ms / 1000)).$((setup_ms % 1000 / 100)) s"
echo "whole test suite (scripts/test.sh, venv ready): $((suite_ms / 1000)).$((suite_ms % 1000 / 100)) s"
