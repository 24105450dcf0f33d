/*
 * auth.c — unit tests for src/common/auth.c: the key and proofs against
 * vectors computed independently (Python's hashlib.blake2b, as
 * tests/cli/lib/stasis_proto.py does), and the client's handshake over a
 * socketpair against a coordinator played by a child process: accepted,
 * refused when the peer does not know the secret (or proves for another
 * port), bounded when it goes silent, and clear about version 1, REJECT and
 * other answers.  The token itself never crosses the wire.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "common/auth.h"
#include "unit.h"

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void nonces(uint8_t cn[PROTO_NONCE_LEN], uint8_t sn[PROTO_NONCE_LEN])
{
    for (int i = 0; i < PROTO_NONCE_LEN; i++) {
        cn[i] = (uint8_t)i;
        sn[i] = (uint8_t)(32 + i);
    }
}

/* ---- key and proofs ------------------------------------------------------ */

static void test_known_answers(void)
{
    char tok[SECRET_TOKEN_SIZE] = TOKEN, hex[2 * 32 + 1];
    uint8_t key[AUTH_KEY_LEN], cn[32], sn[32], out[32];
    auth_key(tok, key);
    hex_of(key, sizeof key, hex);
    CHECKF(strcmp(hex, "3083e1ce982abd7f59235aa1ea3c97046562c75205d4dab8affd2f3600d79958") == 0,
           "key %s", hex);
    nonces(cn, sn);
    auth_proof(key, AUTH_LABEL_COORD, 7779, cn, sn, out);
    hex_of(out, sizeof out, hex);
    CHECKF(strcmp(hex, "a372c9a19b5de84f71e977d4988d198451f8fe9840ceeee7c7fa03ad26a4307f") == 0,
           "coordinator's proof %s", hex);
    auth_proof(key, AUTH_LABEL_CLIENT, 7779, cn, sn, out);
    hex_of(out, sizeof out, hex);
    CHECKF(strcmp(hex, "b1c58c2a948f7c3d3c035f8b364e600e1bd8309c903e4e6f57f89131ace7789d") == 0,
           "client's proof %s", hex);
    /* a one-character token works, and the port is little-endian */
    char x[SECRET_TOKEN_SIZE] = "x";
    auth_key(x, key);
    hex_of(key, sizeof key, hex);
    CHECKF(strcmp(hex, "d161d71145abeec5ef15abcf0459cec60a27321e2f0ac0ef7ace5254f5944476") == 0,
           "key of 'x' %s", hex);
    auth_proof(key, AUTH_LABEL_CLIENT, 1, cn, sn, out);
    hex_of(out, sizeof out, hex);
    CHECKF(strcmp(hex, "ac95a72c922d3ed357b021d3081cfda872c6502939a2e5076c58a98900415b53") == 0,
           "client's proof on port 1 %s", hex);
}

static void test_proof_depends_on_everything(void)
{
    char tok[SECRET_TOKEN_SIZE] = TOKEN;
    uint8_t key[AUTH_KEY_LEN], cn[32], sn[32], base[32], other[32];
    auth_key(tok, key);
    nonces(cn, sn);
    auth_proof(key, AUTH_LABEL_COORD, 7779, cn, sn, base);
    CHECK(auth_proof_equal(base, base));
    auth_proof(key, AUTH_LABEL_CLIENT, 7779, cn, sn, other);
    CHECK(!auth_proof_equal(base, other));
    auth_proof(key, AUTH_LABEL_COORD, 7780, cn, sn, other);
    CHECK(!auth_proof_equal(base, other));
    auth_proof(key, AUTH_LABEL_COORD, 7779, sn, cn, other); /* nonces swapped */
    CHECK(!auth_proof_equal(base, other));
    tok[0] = '1';
    auth_key(tok, key);
    auth_proof(key, AUTH_LABEL_COORD, 7779, cn, sn, other);
    CHECK(!auth_proof_equal(base, other));
    uint8_t n1[32], n2[32];
    CHECK(auth_nonce(n1) == 0 && auth_nonce(n2) == 0 && memcmp(n1, n2, 32) != 0);
}

/* ---- a coordinator played by a child ------------------------------------- */

enum fake_kind {
    FAKE_GOOD,       /* knows the token, proves for the right port */
    FAKE_WRONG_KEY,  /* does not know the token */
    FAKE_OTHER_PORT, /* knows it, but proves for another port (a relay) */
    FAKE_SILENT,     /* reads HELLO, says nothing */
    FAKE_VERSION1,   /* answers with a version-1 REJECT */
    FAKE_REJECT,     /* REJECT(busy) instead of CHALLENGE */
    FAKE_WELCOME,    /* WELCOME at once, skipping the challenge */
};

#define FAKE_PORT 7779

static void fake_send(int fd, uint16_t version, uint16_t type, const void *p, uint32_t len)
{
    struct proto_hdr h = { .magic = PROTO_MAGIC, .version = version, .type = type, .len = len };
    if (write(fd, &h, sizeof h) != sizeof h || (len && write(fd, p, len) != (ssize_t)len))
        _exit(3);
}

static int fake_read(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

/* Everything the client sends goes into `seen` (written to the parent on
 * the other end of `report` at the end), so the test can look for the
 * token in it.  Exit status 0: the client's AUTH was right; 1: no AUTH. */
static void fake_coordinator(int fd, int report, enum fake_kind kind)
{
    struct {
        struct proto_hdr h;
        struct msg_hello hello;
    } in;
    if (fake_read(fd, &in, sizeof in) < 0)
        _exit(1);
    if (write(report, &in, sizeof in) != sizeof in)
        _exit(3);
    struct msg_reject rj = { .code = REJECT_BUSY };
    snprintf(rj.reason, sizeof rj.reason, "busy (test)");
    struct msg_welcome w = { .worker_id = 42, .comp_id = 0x77 };
    if (kind == FAKE_SILENT) {
        char c;
        while (read(fd, &c, 1) > 0) {
        }
        _exit(1);
    }
    if (kind == FAKE_VERSION1 || kind == FAKE_REJECT) {
        fake_send(fd, kind == FAKE_VERSION1 ? 1 : PROTO_VERSION, MSG_REJECT, &rj, sizeof rj);
        _exit(1);
    }
    if (kind == FAKE_WELCOME) {
        fake_send(fd, PROTO_VERSION, MSG_WELCOME, &w, sizeof w);
        _exit(1);
    }
    char tok[SECRET_TOKEN_SIZE] = TOKEN;
    if (kind == FAKE_WRONG_KEY)
        tok[5] ^= 1;
    uint8_t key[AUTH_KEY_LEN];
    auth_key(tok, key);
    struct msg_challenge ch;
    auth_nonce(ch.nonce);
    int port = kind == FAKE_OTHER_PORT ? FAKE_PORT + 1 : FAKE_PORT;
    auth_proof(key, AUTH_LABEL_COORD, port, in.hello.nonce, ch.nonce, ch.proof);
    fake_send(fd, PROTO_VERSION, MSG_CHALLENGE, &ch, sizeof ch);
    struct {
        struct proto_hdr h;
        struct msg_auth a;
    } au;
    if (fake_read(fd, &au, sizeof au) < 0)
        _exit(1);
    if (write(report, &au, sizeof au) != sizeof au)
        _exit(3);
    uint8_t want[32];
    auth_proof(key, AUTH_LABEL_CLIENT, port, in.hello.nonce, ch.nonce, want);
    fake_send(fd, PROTO_VERSION, MSG_WELCOME, &w, sizeof w);
    _exit(au.h.type == MSG_AUTH && auth_proof_equal(want, au.a.proof) ? 0 : 2);
}

struct run {
    int result;
    struct auth_client a;
    int fake_status;      /* the child's exit status */
    char seen[1024];      /* what the child received */
    size_t nseen;
    long ms;              /* how long the handshake took */
};

static void run_handshake(enum fake_kind kind, const char *token, int timeout_ms, struct run *r)
{
    int sv[2], rep[2];
    memset(r, 0, sizeof *r);
    r->result = -1;
    if (!CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 && pipe(rep) == 0))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        close(rep[0]);
        fake_coordinator(sv[1], rep[1], kind);
    }
    close(sv[1]);
    close(rep[1]);
    r->a.hello.role = ROLE_COMMAND;
    snprintf(r->a.hello.name, sizeof r->a.hello.name, "unit");
    r->a.token = token;
    r->a.port = FAKE_PORT;
    r->a.timeout_ms = timeout_ms;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r->result = auth_client_handshake(sv[0], &r->a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    close(sv[0]);
    ssize_t n;
    while (r->nseen < sizeof r->seen &&
           (n = read(rep[0], r->seen + r->nseen, sizeof r->seen - r->nseen)) > 0)
        r->nseen += (size_t)n;
    close(rep[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    r->fake_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int seen_token(const struct run *r)
{
    return memmem(r->seen, r->nseen, TOKEN, strlen(TOKEN)) != NULL;
}

static void test_handshake_good(void)
{
    struct run r;
    run_handshake(FAKE_GOOD, TOKEN, 5000, &r);
    CHECKF(r.result == AUTH_OK, "result %d", r.result);
    CHECKF(r.fake_status == 0, "the coordinator did not accept our AUTH (status %d)", r.fake_status);
    CHECK(r.a.welcome.worker_id == 42 && r.a.welcome.comp_id == 0x77);
    CHECK(r.nseen == sizeof(struct proto_hdr) * 2 + sizeof(struct msg_hello) + sizeof(struct msg_auth));
    CHECK(!seen_token(&r));
}

/* The client stops after the bad CHALLENGE: no AUTH, no token. */
static void check_impostor(enum fake_kind kind, const char *what)
{
    struct run r;
    run_handshake(kind, TOKEN, 5000, &r);
    CHECKF(r.result == AUTH_IMPOSTOR, "%s: result %d", what, r.result);
    CHECKF(r.fake_status == 1, "%s: the client sent AUTH anyway", what);
    CHECKF(r.nseen == sizeof(struct proto_hdr) + sizeof(struct msg_hello), "%s: %zu bytes sent",
           what, r.nseen);
    CHECK(!seen_token(&r));
    char msg[1024];
    auth_describe(&r.a, r.result, "127.0.0.1", msg, sizeof msg);
    CHECKF(strstr(msg, "127.0.0.1:7779") && strstr(msg, "does not know") &&
           strstr(msg, "another user"), "%s: message: %s", what, msg);
}

static void test_handshake_impostor(void)
{
    check_impostor(FAKE_WRONG_KEY, "wrong key");
}

static void test_handshake_relayed_port(void)
{
    check_impostor(FAKE_OTHER_PORT, "proof for another port");
}

static void test_handshake_silent_bounded(void)
{
    struct run r;
    run_handshake(FAKE_SILENT, TOKEN, 300, &r);
    CHECKF(r.result == AUTH_IO && r.a.err == -ETIMEDOUT, "result %d, err %d", r.result, r.a.err);
    CHECKF(r.ms < 5000, "gave up only after %ld ms, bound 300", r.ms);
    char msg[1024];
    auth_describe(&r.a, r.result, "127.0.0.1", msg, sizeof msg);
    CHECKF(strstr(msg, "did not answer") && strstr(msg, "127.0.0.1:7779"), "message: %s", msg);
}

static void test_handshake_no_token(void)
{
    struct run r;
    run_handshake(FAKE_GOOD, "", 5000, &r);
    CHECKF(r.result == AUTH_NO_TOKEN, "result %d", r.result);
    CHECKF(r.nseen == 0, "%zu bytes sent without a token", r.nseen);
}

static void test_handshake_other_answers(void)
{
    struct run r;
    run_handshake(FAKE_VERSION1, TOKEN, 5000, &r);
    CHECKF(r.result == AUTH_OLD_VERSION, "version 1: result %d", r.result);
    char msg[1024];
    auth_describe(&r.a, r.result, "h", msg, sizeof msg);
    CHECKF(strstr(msg, "version 1") != NULL, "version 1 message: %s", msg);
    run_handshake(FAKE_REJECT, TOKEN, 5000, &r);
    CHECKF(r.result == AUTH_REJECTED && strcmp(r.a.reject.reason, "busy (test)") == 0,
           "reject: result %d", r.result);
    run_handshake(FAKE_WELCOME, TOKEN, 5000, &r);
    CHECKF(r.result == AUTH_NOT_STASIS && r.a.got_type == MSG_WELCOME,
           "welcome without challenge: result %d", r.result);
}

int main(void)
{
    unit_run("auth/known-answers", test_known_answers);
    unit_run("auth/proof-depends-on-everything", test_proof_depends_on_everything);
    unit_run("auth/handshake-good", test_handshake_good);
    unit_run("auth/handshake-impostor", test_handshake_impostor);
    unit_run("auth/handshake-relayed-port", test_handshake_relayed_port);
    unit_run("auth/handshake-silent-bounded", test_handshake_silent_bounded);
    unit_run("auth/handshake-no-token", test_handshake_no_token);
    unit_run("auth/handshake-other-answers", test_handshake_other_answers);
    return unit_exit();
}
