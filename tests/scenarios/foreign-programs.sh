#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run indirectly, by wait_for and run_one
# foreign-programs.sh — programs nobody here wrote, checkpointed mid-run,
# killed and restarted, must finish with exactly the output of an
# uninterrupted run: /usr/bin/python3 running a numeric loop, bash
# running a loop of builtins (no child processes), bash running pipelines
# of external programs, python3 through an exec'ing wrapper using
# subprocess with pipes, python3's multiprocessing.Pool, and make -j2
# building a small C project (the program built must be a plain build's),
# and a Java program (OpenJDK) that exits cleanly.  Each prints a progress line per step.
#
# For each program and mode, in a fresh run (driver-lib.sh):
#   1. run it uninterrupted, without the engine: the reference output;
#   2. run it under dmtcp_launch; once a few lines are out (mid-run),
#      `dmtcp_command -kc` (checkpoint, then kill: nothing runs after the
#      image is taken);
#   3. restart the image and let it finish; the output before the kill
#      followed by the restarted program's output must equal the reference,
#      byte for byte.
# Mode kill-restart restarts once; restart-twice restarts the same image a
# second time as well, and that output must be right too.
#
# Prints "PASS foreign-NAME/MODE" or "FAIL foreign-NAME/MODE: reason (log:
# dir)" per program and mode, and exits 0.  STASIS_TEST_FILTER etc. as in
# driver-lib.sh.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/driver-lib.sh"

LINES_BEFORE_KILL=3 # progress lines to wait for before the checkpoint

# About 60 steps of 50-100 ms each, so the checkpoint lands mid-run.
PYTHON_PROG='
x = 12345
acc = 0.0
for step in range(1, 61):
    for i in range(200000):
        x = (x * 1103515245 + 12345) % 2147483648
        acc += (x % 1000) / 997.0
    print(step, x, repr(acc), flush=True)
print("done")
'
# shellcheck disable=SC2016 # expanded by the bash under test, not here
BASH_PROG='
x=7
for ((step = 1; step <= 60; step++)); do
    for ((i = 0; i < 20000; i++)); do
        ((x = (x * 31 + i) % 1000003))
    done
    printf "%d %d\n" "$step" "$x"
done
echo done
'

# A shell loop of pipelines of external programs: a computation of changing
# processes joined by pipes, each step's sum depending on every byte.
# shellcheck disable=SC2016 # expanded by the bash under test, not here
BASH_PIPES_PROG='
total=0
for step in $(seq 1 60); do
    n=$(seq 1 $((step * 40)) | grep -v 7 | awk "{ s += \$1 } END { print s }" | tr -d " ")
    total=$((total + n))
    echo "$step $n $total"
    sleep 0.05
done
echo done
'
# Python through a wrapper that execs (as pyenv and conda shims do: a
# shell script execs env, which execs the interpreter), talking to child
# processes through pipes with subprocess.
PYTHON_SUBPROCESS_PROG='
import subprocess, hashlib
h = hashlib.sha256()
for step in range(1, 41):
    out = subprocess.run(["sort", "-n"], input="".join(f"{(step * 7919 * i) % 1009}\n" for i in range(300)),
                         capture_output=True, text=True, check=True).stdout
    h.update(out.encode())
    with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:
        echoed, _ = p.communicate(out)
    assert echoed == out
    print(step, h.hexdigest()[:16], flush=True)
print("done")
'

# multiprocessing.Pool: worker processes fed through pipes, with locks and
# semaphores in shared memory (unlinked /dev/shm files).
PYTHON_POOL_PROG='
import multiprocessing as mp, hashlib
def work(x):
    h = hashlib.sha256(str(x).encode())
    for _ in range(100000):
        h = hashlib.sha256(h.digest())
    return h.hexdigest()[:8]
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        for step in range(1, 31):
            print(step, " ".join(pool.map(work, range(step * 4, step * 4 + 4))), flush=True)
    print("done")
'

# wrapper_script DIR: a pyenv-style shim for python3 in DIR.
wrapper_script() {
    printf '#!/bin/sh\nexec env PYTHONHASHSEED=0 /usr/bin/python3 "$@"\n' >"$1/python3-shim"
    chmod +x "$1/python3-shim"
}

lines_or_dead() {
    dead "$1" || (($(wc -l <"$RUN_DIR/launch.out") >= LINES_BEFORE_KILL))
}

# expect_output NAME: launch.out + NAME.out is the reference, exactly.
expect_output() {
    cat "$RUN_DIR/launch.out" "$RUN_DIR/$1.out" >"$RUN_DIR/$1.combined"
    cmp -s "$RUN_DIR/$1.combined" "$RUN_DIR/reference.out" && return 0
    diff "$RUN_DIR/reference.out" "$RUN_DIR/$1.combined" >"$RUN_DIR/$1.diff"
    fail_step "launch.out + $1.out differs from the uninterrupted run: $(head -n 3 "$RUN_DIR/$1.diff" | tr '\n' ' ')(see $1.diff)"
}

# restart_and_finish NAME: restarts IMAGE, lets it finish, checks the output.
restart_and_finish() {
    restart_bg "$1"
    wait_exit "$LAST_PID" "$1" "$FINISH_TIMEOUT" || return 1
    ((REAPED_RC == 0)) || fail_step "$1 $(exit_text "$REAPED_RC") (see $1.err)" || return 1
    expect_output "$1"
}

# run_foreign MODE CMD...: the steps above for one program.
run_foreign() {
    local mode=$1
    shift
    start_bg reference "$@"
    wait_exit "$LAST_PID" reference "$FINISH_TIMEOUT" || return 1
    ((REAPED_RC == 0)) || fail_step "the uninterrupted run $(exit_text "$REAPED_RC")" || return 1

    start_coordinator || return 1
    start_bg launch "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$RUN_DIR/ckpt" "$@"
    local pid=$LAST_PID
    wait_for "$TIMEOUT" "$LINES_BEFORE_KILL lines of output" lines_or_dead "$pid" || return 1
    wait_running "$pid" launch || return 1
    kill_computation "$pid" -kc || return 1
    if cmp -s "$RUN_DIR/launch.out" "$RUN_DIR/reference.out"; then
        fail_step "the program finished before the checkpoint; its loop is too short for this machine"
        return 1
    fi
    find_new_image "" || return 1
    restart_and_finish restart1 || return 1
    [ "$mode" = restart-twice ] || return 0
    wait_for "$TIMEOUT" "the coordinator to show NUM_PEERS=0 after the first restart ended" \
        status_is 0 || return 1
    restart_and_finish restart2
}

# A small C project built with make -j2 (make, its shells and gcc's
# stages: a tree of short-lived processes).  make's output order depends on
# timing, so the result compared is the program built: byte for byte the
# one a plain build makes.
make_project() { # DIR
    local i
    mkdir -p "$1/src"
    for ((i = 1; i <= 24; i++)); do
        printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' "$i" "$i" \
            >"$1/src/f$i.c"
    done
    { echo '#include <stdio.h>'
      for ((i = 1; i <= 24; i++)); do echo "int f$i(int);"; done
      echo 'int main(void) { long s = 0;'
      for ((i = 1; i <= 24; i++)); do echo "s += f$i(100);"; done
      echo 'printf("%ld\n", s); return 0; }'; } >"$1/src/main.c"
    printf '%s\n' 'OBJS := $(patsubst src/%.c,obj/%.o,$(wildcard src/*.c))' 'prog: $(OBJS)' \
        '	$(CC) -o $@ $(OBJS)' 'obj/%.o: src/%.c' '	@mkdir -p obj' '	$(CC) -O2 -c -o $@ $<' '	@sleep 0.1' \
        >"$1/Makefile"
    sed -i 's/^\\t/\t/' "$1/Makefile"
}

objects_or_dead() { dead "$1" || (($(find "$RUN_DIR/b/obj" -name '*.o' 2>/dev/null | wc -l) >= 4)); }

run_make() {
    local pid
    make_project "$RUN_DIR/a" && make_project "$RUN_DIR/b" || return 1
    start_bg reference make -s -j2 -C "$RUN_DIR/a"
    wait_exit "$LAST_PID" reference "$FINISH_TIMEOUT" || return 1
    ((REAPED_RC == 0)) || fail_step "the plain build $(exit_text "$REAPED_RC") (see reference.err)" || return 1
    start_coordinator || return 1
    start_bg launch "$BIN/dmtcp_launch" -p "$PORT" -j --ckptdir "$RUN_DIR/ckpt" make -j2 -C "$RUN_DIR/b"
    pid=$LAST_PID
    wait_for "$TIMEOUT" "four objects built" objects_or_dead "$pid" || return 1
    wait_running "$pid" launch || return 1
    kill_computation "$pid" -kc || return 1
    [ ! -e "$RUN_DIR/b/prog" ] || fail_step "the build finished before the checkpoint" || return 1
    find_new_image "" || return 1
    restart_bg restart1
    wait_exit "$LAST_PID" restart1 "$FINISH_TIMEOUT" || return 1
    ((REAPED_RC == 0)) || fail_step "restart1 $(exit_text "$REAPED_RC") (see restart1.err)" || return 1
    cmp -s "$RUN_DIR/a/prog" "$RUN_DIR/b/prog" ||
        fail_step "restart1: the program built differs from a plain build's"
}

# A Java program (OpenJDK): threads, sleeps, a clean exit — the JVM asks
# glibc about its threads at exit (pthread_getattr_np), which needs the
# kernel's tids behind glibc's cached ones after a restart.
JAVA_PROG='
public class Loop {
    public static void main(String[] a) throws Exception {
        long acc = 7;
        Thread[] ts = new Thread[3];
        for (int t = 0; t < 3; t++) {
            final int k = t;
            ts[t] = new Thread(() -> { long x = k; for (int i = 0; i < 2000000; i++) x = (x * 31 + i) % 1000003; });
            ts[t].start();
        }
        for (int step = 1; step <= 40; step++) {
            for (int i = 0; i < 200000; i++) acc = (acc * 31 + i) % 1000003;
            System.out.println(step + " " + acc);
            Thread.sleep(60);
        }
        for (Thread t : ts) t.join();
        System.out.println("done");
    }
}
'

run_java() { # MODE
    mkdir -p "$RUN_DIR/java" && printf '%s' "$JAVA_PROG" >"$RUN_DIR/java/Loop.java" &&
        javac -d "$RUN_DIR/java" "$RUN_DIR/java/Loop.java" 2>"$RUN_DIR/javac.err" ||
        fail_step "javac failed: $(head -c 300 "$RUN_DIR/javac.err")" || return 1
    # restart-twice: -XX:-UsePerfData, no /tmp/hsperfdata_USER/PID: the JVM
    # maps that file shared and deletes it at exit, so the second restart of
    # the same image refuses, naming it (cannot open the shared-mapped file)
    if [ "$1" = restart-twice ]; then run_foreign "$1" java -XX:-UsePerfData -cp "$RUN_DIR/java" Loop
    else run_foreign "$1" java -cp "$RUN_DIR/java" Loop; fi
}

for prog in python3 bash bash-pipes python3-shim-subprocess python3-pool make-j2 java; do
    for mode in kill-restart restart-twice; do
        id=foreign-$prog/$mode
        selected "$id" || continue
        if ! engine_built; then
            echo "SKIP $id: the dmtcp_* commands are not built in $BIN"
            continue
        fi
        case $prog in
        python3) run_one "$id" run_foreign "$mode" /usr/bin/python3 -I -c "$PYTHON_PROG" ;;
        bash) run_one "$id" run_foreign "$mode" /bin/bash --norc --noprofile -c "$BASH_PROG" ;;
        bash-pipes) run_one "$id" run_foreign "$mode" /bin/bash --norc --noprofile -c "$BASH_PIPES_PROG" ;;
        python3-pool) run_one "$id" run_foreign "$mode" /usr/bin/python3 -c "$PYTHON_POOL_PROG" ;;
        java)
            if command -v java >/dev/null && command -v javac >/dev/null; then run_one "$id" run_java "$mode"
            else echo "SKIP $id: java or javac is not installed (Debian: openjdk-17-jdk-headless)"; fi
            ;;
        make-j2)
            # once only: gcc's temporary files (/tmp/cc*.s), open in the
            # images, are deleted by the first restarted build
            if [ "$mode" = restart-twice ]; then continue
            elif command -v make >/dev/null && command -v cc >/dev/null; then run_one "$id" run_make
            else echo "SKIP $id: make or cc is not installed"; fi
            ;;
        python3-shim-subprocess)
            shim_dir=$(mktemp -d "${TMPDIR:-/tmp}/stasis-shim.XXXXXX") && wrapper_script "$shim_dir" &&
                run_one "$id" run_foreign "$mode" "$shim_dir/python3-shim" -I -c "$PYTHON_SUBPROCESS_PROG"
            rm -rf "$shim_dir"
            ;;
        esac
    done
done
exit 0
