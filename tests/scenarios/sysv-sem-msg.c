/*
 * sysv-sem-msg.c — System V semaphore sets and message queues shared by a
 * parent and its child keep their values and messages.
 *
 * main creates a private set of 3 semaphores (1, 5, 9), a private message
 * queue holding "M1" (type 1) and "M2" (type 2), and a set under a key
 * (ftok of a file of the run, value 4).  Its child waits in semop() for
 * semaphore 0 to reach 2 — blocked across the checkpoint.  After the
 * check main finds the values (1, 5, 9) and the keyed set by its key (the
 * id it knows, value 4), then adds 1 to semaphore 0: the child's semop
 * completes, and the child takes M2 then M1 from the queue.  Afterwards
 * semaphore 0 is 0 and the queue is empty (no message came back twice),
 * and everything is removed.
 */
#include "scenario.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

struct text_msg {
    long type;
    char text[16];
};

static void child(int sem, int q)
{
    struct sembuf take = {.sem_num = 0, .sem_op = -2, .sem_flg = 0};
    if (semop(sem, &take, 1) < 0)
        _exit(20);
    struct text_msg m;
    memset(&m, 0, sizeof m);
    if (msgrcv(q, &m, sizeof m.text, 2, IPC_NOWAIT) != 3 || strcmp(m.text, "M2") != 0)
        _exit(21);
    memset(&m, 0, sizeof m);
    if (msgrcv(q, &m, sizeof m.text, 0, IPC_NOWAIT) != 3 || strcmp(m.text, "M1") != 0 || m.type != 1)
        _exit(22);
    _exit(0);
}

int main(void)
{
    int sem = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    char *keyfile = scen_make_file("key", "k", 1);
    key_t key = ftok(keyfile, 'S');
    int keyed = key == -1 ? -1 : semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
    if (sem < 0 || q < 0 || keyed < 0)
        fail_errno("semget/msgget");
    unsigned short init[3] = {1, 5, 9};
    if (semctl(sem, 0, SETALL, (union semun){.array = init}) < 0 || semctl(keyed, 0, SETVAL, (union semun){.val = 4}) < 0)
        fail_errno("semctl SETALL");
    struct text_msg m1 = {1, "M1"}, m2 = {2, "M2"};
    if (msgsnd(q, &m1, 3, 0) < 0 || msgsnd(q, &m2, 3, 0) < 0)
        fail_errno("msgsnd");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0)
        child(sem, q);
    /* ready once the child waits on semaphore 0 */
    SCEN_WAIT_FOR(semctl(sem, 0, GETNCNT) == 1, "the child is not waiting on the semaphore");
    scen_ready();
    scen_wait_check();

    unsigned short now[3] = {0, 0, 0};
    SCEN_CHECK(semctl(sem, 0, GETALL, (union semun){.array = now}) == 0, "GETALL: %s", strerror(errno));
    SCEN_CHECK(now[0] == 1 && now[1] == 5 && now[2] == 9, "the semaphores are %u %u %u, not 1 5 9", now[0], now[1],
               now[2]);
    SCEN_CHECK(semget(key, 1, 0) == keyed, "semget of its key gives %d, not the id the program knows (%d): %s",
               semget(key, 1, 0), keyed, strerror(errno));
    SCEN_CHECK(semctl(keyed, 0, GETVAL) == 4, "the keyed semaphore is %d, not 4", semctl(keyed, 0, GETVAL));
    SCEN_CHECK(semctl(sem, 0, GETNCNT) == 1, "the child no longer waits on semaphore 0 (%d waiting)",
               semctl(sem, 0, GETNCNT));
    struct sembuf give = {.sem_num = 0, .sem_op = 1, .sem_flg = 0};
    SCEN_CHECK(semop(sem, &give, 1) == 0, "semop +1: %s", strerror(errno));
    int s;
    pid_t w;
    while ((w = waitpid(c, &s, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(s) && WEXITSTATUS(s) == 0,
               "the child ended with %#x (exit 20: its semop failed, 21: M2 missing, 22: M1 missing)", s);
    SCEN_CHECK(semctl(sem, 0, GETVAL) == 0, "semaphore 0 is %d after the child took 2", semctl(sem, 0, GETVAL));
    struct text_msg m;
    SCEN_CHECK(msgrcv(q, &m, sizeof m.text, 0, IPC_NOWAIT) < 0 && errno == ENOMSG,
               "the queue still holds a message ('%s'): a message came back twice", m.text);
    SCEN_CHECK(semctl(sem, 0, IPC_RMID) == 0 && semctl(keyed, 0, IPC_RMID) == 0 && msgctl(q, IPC_RMID, NULL) == 0,
               "IPC_RMID: %s", strerror(errno));
    pass();
}
