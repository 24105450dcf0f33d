# shellcheck shell=bash disable=SC2317,SC2034 # functions run indirectly (wait_for, trap)
# common.sh — sourced by tests/plugins/*.sh: tests/lib/common.sh (a private
# temporary directory and XDG_RUNTIME_DIR, a coordinator on a free port,
# background processes, bounded waits, PASS/FAIL/SKIP lines).

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
init_script plugins
