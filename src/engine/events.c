/*
 * events.c — the plugin events that follow the program's own life rather
 * than the checkpoint: process exit, fork, exec and thread start and exit.
 * Each is a thin wrapper (or a pthread_atfork/destructor hook) that
 * dispatches the event and then does what the program asked.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"

static void events_send(dmtcp_event_t ev)
{
    dmtcp_event_data_t data = {.is_restart = 0, .generation = manager_state.generation};
    plugin_dispatch(ev, &data);
}

static void events_atfork_prepare(void)
{
    events_send(DMTCP_EVENT_ATFORK_PREPARE);
}
static void events_atfork_parent(void)
{
    events_send(DMTCP_EVENT_ATFORK_PARENT);
}
static void events_atfork_child(void)
{
    events_send(DMTCP_EVENT_ATFORK_CHILD);
}

void events_init(void)
{
    pthread_atfork(events_atfork_prepare, events_atfork_parent, events_atfork_child);
}

__attribute__((destructor)) static void events_exit(void)
{
    manager_wait_writer_before_exit(); /* exit() and a return from main */
    if (!threads_state.disabled && engine_config.ckpt_signal)
        plugin_dispatch_reverse(DMTCP_EVENT_EXIT, &(dmtcp_event_data_t){0});
}

/* _exit and _Exit skip the destructors: the wait is here for them. */
typedef void (*events_exit_fn)(int);

__attribute__((noreturn)) static void events_exit_now(const char *name, int status)
{
    manager_wait_writer_before_exit();
    events_exit_fn real = (events_exit_fn)dlsym(RTLD_NEXT, name);
    if (real)
        real(status);
    sys_call1(SYS_exit_group, status);
    __builtin_unreachable();
}

void _exit(int status)
{
    events_exit_now("_exit", status);
}

void _Exit(int status)
{
    events_exit_now("_Exit", status);
}

/* ---- threads: PTHREAD_START in the new thread, PTHREAD_EXIT as it ends -- */
struct events_start {
    void *(*fn)(void *);
    void *arg;
};

static void events_thread_end(void *unused)
{
    (void)unused;
    events_send(DMTCP_EVENT_PTHREAD_EXIT);
}

static void *events_thread_main(void *p)
{
    struct events_start s = *(struct events_start *)p;
    free(p);
    events_send(DMTCP_EVENT_PTHREAD_START);
    void *ret;
    pthread_cleanup_push(events_thread_end, NULL); /* also runs on pthread_exit */
    ret = s.fn(s.arg);
    pthread_cleanup_pop(1);
    return ret;
}

typedef int (*events_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static events_create_fn events_libc_pthread_create(void)
{
    static events_create_fn real;
    if (!real)
        real = (events_create_fn)dlsym(RTLD_NEXT, "pthread_create");
    return real;
}

/* The engine's own threads (the manager) are not the program's: libc
 * creates them, and plugins see no PTHREAD_START or PTHREAD_EXIT for them. */
int events_engine_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    return events_libc_pthread_create()(th, attr, fn, arg);
}

ENGINE_API int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    events_create_fn real = events_libc_pthread_create();
    struct events_start *s = malloc(sizeof *s);
    if (!s)
        return real(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int rc = real(th, attr, events_thread_main, s);
    if (rc)
        free(s);
    return rc;
}

/* exec: PRE_EXEC before, POST_EXEC if it returns (it failed): spawn.c */
