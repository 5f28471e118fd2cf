#!/usr/bin/env bash
# Creates the virtual environment .venv-import with the tools `specimen import` reads (requirements.txt)
# and writes their fixtures into OUT_DIR with generate.py, printing the tools' versions.
#
#   scripts/import-fixtures/generate.sh /tmp/import-fixtures [--only mlflow,tensorboard]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/import-fixtures"
venv="$root/.venv-import"
out="${1:?usage: generate.sh OUT_DIR [--only SOURCES]}"
shift
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
# pip is quiet when everything is installed already, so a warm CI run costs a second here.
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
WANDB_MODE=offline WANDB_SILENT=true "$venv/bin/python" "$here/generate.py" "$out" "$@"
