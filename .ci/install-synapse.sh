#!/usr/bin/env bash
# Install Synapse (PyPI matrix-synapse) into its own virtualenv for the Matrix tests and bench.
#
# The Matrix test suite (tests/matrix) starts and stops this Synapse itself: SQLite, bound to
# 127.0.0.1 only, no federation. Synapse lives in a separate virtualenv so that its pinned
# dependencies never mix with the bot's. The bot's own E2E support (matrix-nio[e2e]) uses
# vodozemac, which ships binary wheels on PyPI: no libolm or compiler is needed.
#
# Usage: .ci/install-synapse.sh [VENV]   (default .venv-synapse; env PYTHON picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${1:-${SYNAPSE_VENV:-.venv-synapse}}"
PYTHON="${PYTHON:-python3}"
SYNAPSE_REQUIREMENT="${SYNAPSE_REQUIREMENT:-matrix-synapse==1.163.2}"
STAMP="$VENV/.installed-$(echo "$SYNAPSE_REQUIREMENT" | tr -c 'A-Za-z0-9.=\n' '_')"

if [ -f "$STAMP" ] && "$VENV/bin/python" -c "import synapse" 2>/dev/null; then
  exit 0
fi

if ! "$PYTHON" -c "import venv, ensurepip" 2>/dev/null; then
  # Debian's system Python needs python3-venv for `python3 -m venv`.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  else
    echo "install-synapse: $PYTHON cannot create a virtualenv (install python3-venv)" >&2
    exit 1
  fi
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
# Synapse publishes manylinux wheels (with its Rust extension); --only-binary keeps a
# missing wheel from turning into a long Rust build on CI.
"$VENV/bin/pip" install --quiet --only-binary matrix-synapse "$SYNAPSE_REQUIREMENT"
"$VENV/bin/python" -c "import synapse; print('synapse', synapse.__version__)"
touch "$STAMP"
