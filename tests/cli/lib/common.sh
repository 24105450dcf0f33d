# shellcheck shell=bash disable=SC2034 # used by the scripts that source this
# common.sh — sourced by tests/cli/*.sh: tests/lib/common.sh (a private
# temporary directory and XDG_RUNTIME_DIR, a coordinator on a free port,
# background processes, PASS/FAIL/SKIP lines) and the fake workers
# (stasis_proto.py) that stand in for the engine.
# Waits are bounded only to avoid hangs; nothing asserts on timing.

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
PY=/usr/bin/python3
PROTO=$ROOT/tests/cli/lib/stasis_proto.py
init_script cli # fake workers write their images into the current directory
