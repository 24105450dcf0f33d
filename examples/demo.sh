#!/usr/bin/env bash
# make demo: a multi-threaded program is checkpointed, killed and restarted,
# and its output goes on where it stopped.  Then the restarted output is
# compared with an uninterrupted run.  Everything happens in a temp dir.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
work=$(mktemp -d /tmp/stasis-demo.XXXXXX)
export XDG_RUNTIME_DIR=$work/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
cleanup() { "$bin/dmtcp_command" -p "$(cat "$work/port" 2>/dev/null || echo 1)" -q >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

cc -std=gnu11 -O2 -Wall -I"$top/include" -o "$work/demo-threads" "$top/examples/demo-threads.c" -lpthread
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "an uninterrupted run, for reference"
"$work/demo-threads" 30 | tee "$work/reference.txt" | tail -n 3

say "dmtcp_coordinator: a private coordinator on a free port"
"$bin/dmtcp_coordinator" -p 0 --port-file "$work/port" --daemon --coord-logfile "$work/coord.log"
port=$(cat "$work/port")
echo "listening on 127.0.0.1:$port"

say "dmtcp_launch: the program runs under checkpoint control"
mkdir "$work/ckpt"
"$bin/dmtcp_launch" -p "$port" -j --ckptdir "$work/ckpt" "$work/demo-threads" 30 > "$work/run1.txt" &
launched=$!
while [ "$(grep -c '^tick' "$work/run1.txt" 2>/dev/null)" -lt 10 ]; do sleep 0.05; done
cat "$work/run1.txt"

say "dmtcp_command -kc: checkpoint, then kill the computation"
"$bin/dmtcp_command" -p "$port" -kc
wait "$launched" 2>/dev/null || true
ls -l "$work"/ckpt/*.dmtcp "$work"/ckpt/dmtcp_restart_script.sh | sed "s|$work/||"

say "dmtcp_restart: the program continues where the checkpoint left it"
"$bin/dmtcp_restart" -p "$port" -j "$work"/ckpt/ckpt_*.dmtcp > "$work/run2.txt"
head -n 3 "$work/run2.txt"; echo "..."; tail -n 2 "$work/run2.txt"

say "result"
ticks() { grep '^tick' "$@" | sed 's/  pid [0-9]*//'; }
pids=$(cat "$work/run1.txt" "$work/run2.txt" | grep '^tick' | awk '{print $4}' | sort -u | wc -l)
if cat "$work/run1.txt" "$work/run2.txt" | ticks | diff -q - <(ticks "$work/reference.txt") >/dev/null && [ "$pids" = 1 ]; then
    echo "ticks before the kill + ticks after the restart == an uninterrupted run's ticks,"
    echo "with one pid throughout: the program went on exactly where it was checkpointed."
else
    echo "MISMATCH: the restarted run differs from the reference (pids seen: $pids)" >&2
    cat "$work/run1.txt" "$work/run2.txt" | ticks | diff - <(ticks "$work/reference.txt") >&2 || true
    exit 1
fi
echo "coordinator log:"; sed 's/^/  /' "$work/coord.log"
