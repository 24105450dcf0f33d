/*
 * thread-names.c — thread names set with pthread_setname_np survive: each
 * thread reads its own name (pthread_getname_np on itself and
 * prctl(PR_GET_NAME)), the main thread reads every worker's name through
 * pthread_getname_np (which goes through /proc/self/task/TID/comm), and the
 * process name in /proc/self/comm is the main thread's.
 */
#include "scenario.h"

#include <sys/prctl.h>

#define NWORKERS 5

static atomic_int checked;
static atomic_int n_named;
static atomic_int n_verified;

static void name_of(int idx, char *buf, size_t n)
{
    snprintf(buf, n, "scen-w%c-%c", '0' + idx % 10, 'a' + idx % 26);
}

static void expect_own_name(const char *expected, const char *who)
{
    char got[16], pr[17] = { 0 };
    int rc = pthread_getname_np(pthread_self(), got, sizeof(got));
    if (rc != 0)
        fail("%s: pthread_getname_np on itself: %s", who, strerror(rc));
    if (strcmp(got, expected) != 0)
        fail("%s: pthread_getname_np on itself gives '%s', expected '%s'", who, got, expected);
    if (prctl(PR_GET_NAME, pr) != 0)
        fail_errno("%s: prctl(PR_GET_NAME)", who);
    if (strcmp(pr, expected) != 0)
        fail("%s: prctl(PR_GET_NAME) gives '%s', expected '%s'", who, pr, expected);
}

static void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    char name[16];
    name_of(idx, name, sizeof(name));
    if (idx % 2 == 0) /* half name themselves, half are named by main */
        pthread_setname_np(pthread_self(), name);
    atomic_fetch_add(&n_named, 1);
    while (!atomic_load(&checked))
        scen_sleep_ms(2);
    expect_own_name(name, "worker");
    atomic_fetch_add(&n_verified, 1);
    while (atomic_load(&checked) < 2)
        scen_sleep_ms(2);
    return NULL;
}

int main(void)
{
    pthread_t t[NWORKERS];
    char name[16];
    for (int i = 0; i < NWORKERS; i++) {
        t[i] = scen_thread(worker, (void *)(intptr_t)i);
        if (i % 2 == 1) {
            name_of(i, name, sizeof(name));
            int rc = pthread_setname_np(t[i], name);
            if (rc != 0)
                fail("pthread_setname_np: %s", strerror(rc));
        }
    }
    if (prctl(PR_SET_NAME, "scen-main-thr") != 0)
        fail_errno("prctl(PR_SET_NAME)");
    SCEN_WAIT_FOR(atomic_load(&n_named) == NWORKERS, "workers did not start");

    scen_ready();
    scen_wait_check();

    expect_own_name("scen-main-thr", "main thread");
    FILE *f = fopen("/proc/self/comm", "re");
    char comm[32] = "";
    if (!f || !fgets(comm, sizeof(comm), f))
        fail_errno("read /proc/self/comm");
    fclose(f);
    comm[strcspn(comm, "\n")] = 0;
    if (strcmp(comm, "scen-main-thr") != 0)
        fail("/proc/self/comm is '%s', expected 'scen-main-thr'", comm);
    atomic_store(&checked, 1);
    SCEN_WAIT_FOR(atomic_load(&n_verified) == NWORKERS, "workers did not check their names");
    for (int i = 0; i < NWORKERS; i++) {
        char got[16];
        name_of(i, name, sizeof(name));
        int rc = pthread_getname_np(t[i], got, sizeof(got));
        if (rc != 0)
            fail("pthread_getname_np on worker %d: %s", i, strerror(rc));
        if (strcmp(got, name) != 0)
            fail("worker %d is named '%s', expected '%s'", i, got, name);
    }
    if (pthread_setname_np(t[0], "renamed") != 0)
        fail("pthread_setname_np on a worker after the check failed");
    char got[16];
    if (pthread_getname_np(t[0], got, sizeof(got)) != 0 || strcmp(got, "renamed") != 0)
        fail("renaming a worker after the check did not stick");
    atomic_store(&checked, 2);
    for (int i = 0; i < NWORKERS; i++)
        scen_join(t[i]);
    pass();
}
