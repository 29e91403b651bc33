#!/usr/bin/env bash
# Create a separate Python 3.10 venv with Rasa Open Source 3.6 for the optional Rasa NLU backend
# and bench/nlu_compare.py. Rasa is NOT a dependency of the bot's default install and NOT part of CI.
#
# Usage: scripts/rasa-venv.sh [VENV_DIR]        (default: /work/rasa-venv, outside the repo; ~2.7 GB)
# Env:   RASA_PYTHON=/path/to/python3.10      (default: pyenv's 3.10.13, else python3.10 on PATH)
#        RASA_VERSION="3.6.*"                 (pip version spec)
set -euo pipefail

VENV_DIR="${1:-${RASA_VENV:-/work/rasa-venv}}"
RASA_VERSION="${RASA_VERSION:-3.6.*}"

if [[ -z "${RASA_PYTHON:-}" ]]; then
    if [[ -x /root/.pyenv/versions/3.10.13/bin/python ]]; then
        RASA_PYTHON=/root/.pyenv/versions/3.10.13/bin/python
    elif command -v python3.10 >/dev/null 2>&1; then
        RASA_PYTHON="$(command -v python3.10)"
    else
        echo "rasa-venv: need Python 3.10 (set RASA_PYTHON)" >&2
        exit 1
    fi
fi

version="$("$RASA_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$version" != "3.10" && "$version" != "3.9" && "$version" != "3.8" ]]; then
    echo "rasa-venv: Rasa 3.6 needs Python 3.8-3.10, got $version from $RASA_PYTHON" >&2
    exit 1
fi

if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    echo "rasa-venv: creating $VENV_DIR with $RASA_PYTHON ($version)"
    "$RASA_PYTHON" -m venv "$VENV_DIR"
fi

"$VENV_DIR/bin/python" -m pip install --quiet --upgrade "pip<24.1" "setuptools<70" wheel
"$VENV_DIR/bin/python" -m pip install "rasa==${RASA_VERSION}"

"$VENV_DIR/bin/rasa" --version
echo "rasa-venv: ready. Use: $VENV_DIR/bin/rasa train nlu --config nlu/rasa/config.yml --nlu nlu/data/nlu"
