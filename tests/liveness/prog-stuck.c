/*
 * prog-stuck.c — the program the liveness tests checkpoint and kill.
 *
 *   prog-stuck plain | sigblock | glibc-timer
 *
 * The main thread prints "tick N" every 20 ms (with fflush): the counter
 * going on shows the program runs.  Besides it:
 *   sigblock     a thread named "sigblocker" blocks every signal with the
 *                raw rt_sigprocmask system call (so the engine's wrapper
 *                cannot hide the checkpoint signal from it) and sleeps in
 *                short steps; once the file "unblock" exists in the working
 *                directory it unblocks them all again and prints "unblocked";
 *   glibc-timer  a periodic timer_create(SIGEV_THREAD) timer made by glibc's
 *                own timer_create (found with dlsym in libc itself, past the
 *                engine's), whose helper thread blocks every signal; its
 *                notifications count "fired" in the tick lines.
 * At start it prints "tid N" for the extra thread (sigblock).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int blocker_tid;
static atomic_long fired;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *sigblocker(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "sigblocker");
    uint64_t all = ~0ull, none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    atomic_store(&blocker_tid, (int)syscall(SYS_gettid));
    while (access("unblock", F_OK) != 0)
        sleep_ms(10);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
    printf("unblocked\n");
    fflush(stdout);
    for (;;)
        sleep_ms(10);
    return NULL;
}

static void notified(union sigval v)
{
    (void)v;
    atomic_fetch_add(&fired, 1);
}

static int start_glibc_timer(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    int (*glibc_timer_create)(clockid_t, struct sigevent *, timer_t *) =
        libc ? (int (*)(clockid_t, struct sigevent *, timer_t *))dlsym(libc, "timer_create") : NULL;
    if (!glibc_timer_create) {
        fprintf(stderr, "prog-stuck: no timer_create in libc.so.6\n");
        return -1;
    }
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = notified;
    timer_t t;
    if (glibc_timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) {
        perror("prog-stuck: timer_create");
        return -1;
    }
    struct itimerspec its = {{0, 20000000}, {0, 20000000}};
    return timer_settime(t, 0, &its, NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    if (!strcmp(mode, "sigblock")) {
        pthread_t t;
        pthread_create(&t, NULL, sigblocker, NULL);
        while (!atomic_load(&blocker_tid))
            sleep_ms(1);
        printf("tid %d\n", atomic_load(&blocker_tid));
    } else if (!strcmp(mode, "glibc-timer")) {
        if (start_glibc_timer() < 0)
            return 1;
    } else if (strcmp(mode, "plain")) {
        fprintf(stderr, "prog-stuck: unknown mode %s\n", mode);
        return 1;
    }
    for (long n = 1;; n++) {
        printf("tick %ld fired=%ld\n", n, atomic_load(&fired));
        fflush(stdout);
        sleep_ms(20);
    }
}
