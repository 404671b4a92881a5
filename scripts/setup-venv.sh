# Sourced by demo.sh and test.sh: a virtual environment in .venv with Lotsa installed.
# $1: the pip extras to install ("" or "[test]").
lotsa_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
}
