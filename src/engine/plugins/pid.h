/*
 * pid.h — what the pid plugin (pid.c, pid_tree.c, pthread_tids.c) offers
 * the other built-in plugins: the ids of this process and of the
 * computation's other processes, as the program knows them and as the
 * kernel does.
 */
#ifndef STASIS_PLUGINS_PID_H
#define STASIS_PLUGINS_PID_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* pid.c: this process and its threads */
pid_t pid_virtual_pid(void);
pid_t pid_real_pid(void);
int pid_translating(void); /* ids may differ from the kernel's (after a restart) */
/* a virtual id of this process, one of its threads or another process → the kernel's */
pid_t pid_to_real(pid_t vpid);
void pid_set_virtual(pid_t vpid);

/* pid_tree.c: the other processes' pids after a restart */
void pid_tree_load(int fd, uint32_t n, pid_t prev_real);
pid_t pid_tree_to_real(pid_t v);
void pid_tree_add(pid_t vpid, pid_t real);
pid_t pid_tree_to_virtual(pid_t r);
void pid_tree_family(int32_t *ppid, int32_t *pgid, int32_t *sid);
void pid_tree_renew_syscall(void *ucontext);
void pid_tree_carry(void);
/* pid_proc.c: "/proc/<pid>/..." with the pid now */
const char *pid_proc_path(const char *path, char *buf, size_t cap);
void pid_tree_carried(void);

/* pthread_tids.c: glibc's cached tids and the calls that take an id */
void pthread_tids_init(void); /* from pid.c's INIT */
/* syscall(2) with a number pid.c does not handle, the ids in its arguments
 * made the kernel's; the kernel's result (-errno) */
long pthread_tids_syscall(long n, long a, long b, long c, long d, long e, long f);
/* a CPU clock id naming a virtual pid or tid → the kernel's clock id */
clockid_t pthread_tids_clock_to_real(clockid_t c);
/* a SIGEV_THREAD_ID event's virtual tid → the kernel's (in *copy if changed) */
const struct sigevent *pthread_tids_sigevent_to_real(const struct sigevent *ev, struct sigevent *copy);

#endif
