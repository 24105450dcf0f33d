/*
 * gettid-own.c — a program that defines gettid() and getpid() itself, as
 * syscall(SYS_gettid) and syscall(SYS_getpid), as programs written before
 * glibc 2.30 did.  Its definitions take the place of the engine's for every
 * caller, so the engine must never call them where it means its own: its
 * syscall() wrapper must not recurse through the program's gettid().  Both
 * keep giving the values they gave before the checkpoint (virtual ids after
 * a restart), and they still reach the right thread through the kernel.
 */
#include "scenario.h"

#include <sys/syscall.h>

pid_t gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

pid_t getpid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

static atomic_int worker_tid;
static atomic_int stop;

static void *worker(void *arg)
{
    (void)arg;
    atomic_store(&worker_tid, gettid());
    while (!atomic_load(&stop))
        scen_sleep_ms(5);
    SCEN_CHECK(gettid() == atomic_load(&worker_tid), "the worker's gettid() changed from %d to %d",
               atomic_load(&worker_tid), gettid());
    return NULL;
}

int main(void)
{
    pid_t pid = getpid(), tid = gettid();
    SCEN_CHECK(pid == tid, "the main thread's gettid() %d differs from getpid() %d", tid, pid);
    pthread_t t = scen_thread(worker, NULL);
    SCEN_WAIT_FOR(atomic_load(&worker_tid) != 0, "the worker thread never started");
    SCEN_CHECK(atomic_load(&worker_tid) != pid, "the worker's gettid() is the pid %d", pid);
    scen_ready();
    scen_wait_check();
    SCEN_CHECK(getpid() == pid, "getpid() changed from %d to %d", pid, getpid());
    SCEN_CHECK(gettid() == tid, "gettid() changed from %d to %d", tid, gettid());
    /* the ids still name this process and the worker to the kernel */
    SCEN_CHECK(syscall(SYS_tgkill, getpid(), atomic_load(&worker_tid), 0) == 0,
               "tgkill(%d, %d, 0) on the worker failed: %s", getpid(), atomic_load(&worker_tid), strerror(errno));
    SCEN_CHECK(kill(getpid(), 0) == 0, "kill(%d, 0) failed: %s", getpid(), strerror(errno));
    int rc = pthread_kill(t, 0);
    SCEN_CHECK(rc == 0, "pthread_kill(worker, 0): %s", strerror(rc));
    atomic_store(&stop, 1);
    scen_join(t);
    pass();
}
