#!/usr/bin/env bash
# make demo: the delayed-resume use case.  filekeeper's workers keep
# rewriting and deleting files; at the checkpoint it archives its data
# directory beside the image.  Run once with plain dmtcp_checkpoint() and
# once with dmtcp_checkpoint_block_resume(), kill, restore the archive,
# restart, and let the restarted program count the files that do not match.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/bin
work=$(mktemp -d /tmp/stasis-demo.XXXXXX)
export XDG_RUNTIME_DIR=$work/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
port=
cleanup() {
    [ -n "$port" ] && "$bin/dmtcp_command" -p "$port" -q >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cc -std=gnu11 -O2 -Wall -I"$top/include" -o "$work/filekeeper" "$top/examples/delayresume/filekeeper.c" -lpthread
"$bin/dmtcp_coordinator" -p 0 --port-file "$work/port" --daemon --coord-logfile "$work/coord.log"
port=$(cat "$work/port")

run_mode() { # MODE: launch, checkpoint+archive, kill, restore, restart, verify
    local mode=$1 dir=$work/$1
    mkdir -p "$dir/ckpt"
    say "$mode: filekeeper under dmtcp_launch --with-plugin libdmtcp_delayresume.so"
    "$bin/dmtcp_launch" -p "$port" -j --ckptdir "$dir/ckpt" --with-plugin "$top/lib/libdmtcp_delayresume.so" \
        "$work/filekeeper" "$mode" "$dir/data" "$dir/ckpt" > "$dir/run.out" 2> "$dir/run.err" &
    local pid=$! n=0
    disown "$pid" # its end by -k is expected: no job notice
    until grep -q 'checkpoint taken' "$dir/run.out" 2>/dev/null; do
        sleep 0.05; n=$((n + 1))
        if [ $n -gt 1200 ]; then echo "filekeeper never checkpointed" >&2; cat "$dir/run.err" >&2; exit 1; fi
    done
    cat "$dir/run.out"
    sleep 0.3 # the workers go on changing files after the archive
    "$bin/dmtcp_command" -p "$port" -k >/dev/null
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    echo "killed; $(ls "$dir/data" | wc -l) files in the data directory now"
    say "$mode: restore-and-restart.sh puts the archive back and restarts"
    # (--stdio inherit: the restarted program writes to this restart's own
    # output; by default a stream on a file is that file again, run.out)
    "$dir/ckpt/restore-and-restart.sh" -p "$port" -j --stdio inherit > "$dir/restart.out" 2> "$dir/restart.err" &
    local rpid=$!
    disown "$rpid"
    n=0
    until grep -q '^RESULT' "$dir/restart.out" 2>/dev/null; do
        sleep 0.05; n=$((n + 1))
        if [ $n -gt 1200 ]; then echo "the restarted filekeeper never reported" >&2; cat "$dir/restart.err" >&2; exit 1; fi
    done
    grep -v '^RESULT' "$dir/restart.out"
    "$bin/dmtcp_command" -p "$port" -k >/dev/null
    while kill -0 "$rpid" 2>/dev/null; do sleep 0.05; done
    races[$mode]=$(sed -n 's/^RESULT races=//p' "$dir/restart.out")
    images[$mode]=$(ls "$dir"/ckpt/*.dmtcp)
}

declare -A races images
run_mode plain
run_mode delayed

say "summary"
for m in plain delayed; do
    printf '  %-8s image %s (%s), archive %s (%s)\n' "$m" "$(basename "${images[$m]}")" \
        "$(du -h "${images[$m]}" | cut -f1)" "files.tar" "$(du -h "$work/$m/ckpt/files.tar" | cut -f1)"
done
printf '  races seen after restart: %s with plain dmtcp_checkpoint(), %s with delayed resume\n' \
    "${races[plain]}" "${races[delayed]}"
if [ "${races[delayed]}" != 0 ]; then
    echo "  UNEXPECTED: delayed resume let a file change between checkpoint and archive" >&2
    exit 1
fi
echo "  with delayed resume every file matched the checkpoint."
