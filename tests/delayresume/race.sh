#!/bin/bash
# Races (a) (a worker rewrites a file) and (b) (a worker deletes it), made
# deterministic (race.c): with dmtcp_checkpoint_block_resume() the copy taken
# in the window always matches the checkpointed state, over many iterations,
# and the worker goes on after unblock; with plain dmtcp_checkpoint() the
# same program sees the race at least once.  Counts are printed.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_plugin
build race
start_coord || { fail race "coordinator did not start"; exit 0; }
ITER=${STASIS_DR_RACE_ITER:-50}

for kind in change delete; do
    case $kind in change) r=a ;; delete) r=b ;; esac
    for mode in block plain; do
        label=race-$r-$kind-$mode
        mkdir -p "$TMP/$label.d"
        launch_dr "$label" "$TMP/race" "$mode" "$kind" "$ITER" "$TMP/$label.d"
        if ! finish "$LAUNCH_PID"; then
            fail "$label" "did not finish within ${WAIT}s: $(tail_of "$TMP/$label.err")"
            continue
        fi
        line=$(grep '^SUMMARY ' "$TMP/$label.out")
        if [ "$REAPED_RC" != 0 ] || [ -z "$line" ]; then
            fail "$label" "exited $REAPED_RC without a summary: $(tail_of "$TMP/$label.err")"
            continue
        fi
        races=$(sed -n 's/.* races=\([0-9]*\).*/\1/p' <<<"$line")
        resumed=$(sed -n 's/.* resumed=\([0-9]*\).*/\1/p' <<<"$line")
        errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
        echo "# $label: iterations=$ITER races=$races resumed=$resumed errors=$errors"
        if [ "$mode" = block ]; then
            if [ "$errors" != 0 ] || [ "$races" != 0 ] || [ "$resumed" != "$ITER" ]; then
                fail "$label" "$line; stderr: $(tail_of "$TMP/$label.err")"
            elif [ -s "$TMP/$label.err" ]; then
                fail "$label" "unexpected stderr: $(tail_of "$TMP/$label.err")"
            else
                pass "$label"
            fi
        else
            if [ "$errors" != 0 ] || [ "$races" -lt 1 ]; then
                fail "$label" "plain dmtcp_checkpoint() did not show the race: $line"
            else
                pass "$label"
            fi
        fi
    done
done
exit 0
