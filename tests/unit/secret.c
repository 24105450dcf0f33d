/*
 * secret.c — unit tests for src/common/secret.c: the token file (created
 * private, read back, one per port, STASIS_COORD_SECRET first), the places
 * it may live, and the choice among them — a directory that is a symbolic
 * link, not a directory, open to others or (as root) another user's is
 * passed over with a reason, and writer and reader agree.  The choice is
 * tested on places made in a private temporary directory (a stand-in for
 * /tmp, mode 1777, and for $HOME), so the machine's /tmp is never touched;
 * tests/security/secret-dir-squat.sh does the real thing as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>

#include "common/secret.h"
#include "unit.h"

/* A fresh XDG_RUNTIME_DIR of our own, STASIS_COORD_SECRET unset. */
static int secret_env(char *dir, size_t cap)
{
    if (unit_mkdtemp(dir, cap, "xdg") < 0)
        return -1;
    chmod(dir, 0700);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    unsetenv("STASIS_COORD_SECRET");
    umask(022);
    return 0;
}

static int is_hex64(const char s[SECRET_TOKEN_SIZE])
{
    for (int i = 0; i < SECRET_HEX_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    for (int i = SECRET_HEX_LEN; i < SECRET_TOKEN_SIZE; i++)
        if (s[i])
            return 0;
    return 1;
}

/* ---- the token file ------------------------------------------------------ */

static void test_create_load(void)
{
    char xdg[256], want[4400], tok[SECRET_TOKEN_SIZE], again[SECRET_TOKEN_SIZE];
    static struct secret_where w;
    if (!CHECK(secret_env(xdg, sizeof xdg) == 0))
        return;
    memset(tok, 0x55, sizeof tok);
    int r = secret_create(7779, tok, &w);
    CHECKF(r == 0, "secret_create = %d (%s)", r, w.note);
    CHECKF(is_hex64(tok), "token is not 64 lowercase hex characters NUL-padded: %.72s", tok);
    snprintf(want, sizeof want, "%s/stasis/coord-7779.secret", xdg);
    CHECKF(strcmp(w.path, want) == 0, "secret path %s, want %s", w.path, want);
    CHECKF(w.note[0] == 0, "a note for a good directory: %s", w.note);

    struct stat st;
    snprintf(want, sizeof want, "%s/stasis", xdg);
    CHECK(lstat(want, &st) == 0 && S_ISDIR(st.st_mode));
    CHECKF((st.st_mode & 07777) == 0700, "secret dir mode %o, want 700", st.st_mode & 07777);
    CHECK(lstat(w.path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid());
    CHECKF((st.st_mode & 07777) == 0600, "secret file mode %o, want 600", st.st_mode & 07777);
    CHECK(st.st_size == SECRET_HEX_LEN + 1);

    memset(again, 0x55, sizeof again);
    r = secret_load(7779, again, NULL);
    CHECKF(r == 0, "secret_load = %d", r);
    CHECK(memcmp(tok, again, sizeof tok) == 0);

    /* another port has its own token; the first is untouched */
    char other[SECRET_TOKEN_SIZE];
    CHECK(secret_load(7780, other, &w) == -ENOENT);
    snprintf(want, sizeof want, "%s/stasis/coord-7780.secret", xdg);
    CHECKF(strcmp(w.path, want) == 0, "missing file named %s, want %s", w.path, want);
    CHECK(secret_create(7780, other, &w) == 0);
    CHECK(memcmp(tok, other, sizeof tok) != 0);
    CHECK(secret_load(7779, again, NULL) == 0 && memcmp(tok, again, sizeof tok) == 0);

    /* creating again replaces the token, and leaves no temporary file */
    CHECK(secret_create(7779, other, &w) == 0);
    CHECK(memcmp(tok, other, sizeof tok) != 0);
    CHECK(secret_load(7779, again, NULL) == 0 && memcmp(other, again, sizeof other) == 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s/stasis' | grep -qv '^coord-[0-9]*\\.secret$'", xdg);
    CHECKF(system(cmd) != 0, "stray files left in %s/stasis", xdg);
    unit_rmtree(xdg);
}

static void test_env_override(void)
{
    char xdg[256], tok[SECRET_TOKEN_SIZE], out[SECRET_TOKEN_SIZE];
    static struct secret_where w;
    if (!CHECK(secret_env(xdg, sizeof xdg) == 0))
        return;
    CHECK(secret_create(7779, tok, &w) == 0);
    setenv("STASIS_COORD_SECRET", "0123456789abcdef", 1);
    memset(out, 0x55, sizeof out);
    CHECK(secret_load(7779, out, &w) == 0);
    CHECKF(strcmp(out, "0123456789abcdef") == 0 && out[SECRET_TOKEN_SIZE - 1] == 0,
           "env token read as '%.72s'", out);
    CHECK(w.path[0] == 0);
    /* also when no file exists, and a trailing newline is trimmed */
    setenv("STASIS_COORD_SECRET", "feedface\n", 1);
    CHECK(secret_load(4242, out, NULL) == 0 && strcmp(out, "feedface") == 0);
    /* a token that does not fit is refused, not truncated */
    char longtok[100];
    memset(longtok, 'a', 80);
    longtok[80] = 0;
    setenv("STASIS_COORD_SECRET", longtok, 1);
    CHECK(secret_load(7779, out, NULL) < 0);
    /* empty means unset */
    setenv("STASIS_COORD_SECRET", "", 1);
    CHECK(secret_load(7779, out, NULL) == 0 && memcmp(out, tok, sizeof tok) == 0);
    unsetenv("STASIS_COORD_SECRET");
    unit_rmtree(xdg);
}

static void test_file_must_be_private(void)
{
    char xdg[256], tok[SECRET_TOKEN_SIZE], out[SECRET_TOKEN_SIZE], real[4400];
    static struct secret_where w;
    if (!CHECK(secret_env(xdg, sizeof xdg) == 0))
        return;
    CHECK(secret_create(7779, tok, &w) == 0);
    CHECK(chmod(w.path, 0640) == 0);
    CHECKF(secret_load(7779, out, NULL) == -EPERM, "secret loaded from a file of mode 640");
    CHECK(chmod(w.path, 0600) == 0);
    /* the file may not be a symlink, even to a private file of ours */
    snprintf(real, sizeof real, "%s.real", w.path);
    CHECK(rename(w.path, real) == 0 && symlink(real, w.path) == 0);
    CHECKF(secret_load(7779, out, NULL) < 0, "secret loaded through a symlink");
    unit_rmtree(xdg);
}

/* The engine reads the token on the calling thread of
 * dmtcp_get_coordinator_status(), whose stack may be small. */
static void *load_on_thread(void *want)
{
    char tok[SECRET_TOKEN_SIZE] = "";
    long r = secret_load(7779, tok, NULL);
    return (void *)(r < 0 ? r : memcmp(tok, want, sizeof tok) != 0);
}

static void test_load_on_small_stack(void)
{
    char xdg[256], tok[SECRET_TOKEN_SIZE];
    struct secret_where w;
    if (!CHECK(secret_env(xdg, sizeof xdg) == 0))
        return;
    CHECK(secret_create(7779, tok, &w) == 0);
    pthread_attr_t at;
    pthread_attr_init(&at);
    CHECK(pthread_attr_setstacksize(&at, PTHREAD_STACK_MIN > 16384 ? PTHREAD_STACK_MIN : 16384) == 0);
    pthread_t th;
    void *ret = (void *)1;
    CHECK(pthread_create(&th, &at, load_on_thread, tok) == 0 && pthread_join(th, &ret) == 0);
    CHECKF(ret == NULL, "secret_load on a 16 KiB stack: %ld", (long)ret);
    pthread_attr_destroy(&at);
    unit_rmtree(xdg);
}

static void test_places_from_env(void)
{
    struct secret_place p[SECRET_MAX_PLACES];
    char uid[64];
    snprintf(uid, sizeof uid, "stasis-%u", (unsigned)geteuid());
    setenv("XDG_RUNTIME_DIR", "/run/user/x", 1);
    setenv("HOME", "/home/x", 1);
    int n = secret_places(p);
    CHECK(n == 3);
    CHECK(n == 3 && !strcmp(p[0].base, "/run/user/x") && !strcmp(p[0].rel, "stasis") && p[0].base_private);
    CHECK(n == 3 && !strcmp(p[1].base, "/tmp") && !strcmp(p[1].rel, uid) && !p[1].base_private);
    CHECK(n == 3 && !strcmp(p[2].base, "/home/x") && !strcmp(p[2].rel, ".cache/stasis") && p[2].base_private);
    unsetenv("XDG_RUNTIME_DIR");
    n = secret_places(p);
    CHECK(n == 2 && !strcmp(p[0].base, "/tmp") && !strcmp(p[1].base, "/home/x"));
}

/* ---- choosing among places ------------------------------------------------ */

struct world {
    char root[256];             /* everything lives here */
    char xdg[300], tmp[300], home[300], elsewhere[300];
    struct secret_place p[3];
};

/* An XDG_RUNTIME_DIR (0700), a /tmp stand-in (1777) and a HOME (0755). */
static int world_make(struct world *w)
{
    if (unit_mkdtemp(w->root, sizeof w->root, "places") < 0)
        return -1;
    snprintf(w->xdg, sizeof w->xdg, "%s/xdg", w->root);
    snprintf(w->tmp, sizeof w->tmp, "%s/tmp", w->root);
    snprintf(w->home, sizeof w->home, "%s/home", w->root);
    if (mkdir(w->xdg, 0700) < 0 || mkdir(w->tmp, 0700) < 0 || chmod(w->tmp, 01777) < 0 ||
        mkdir(w->home, 0755) < 0)
        return -1;
    memset(w->p, 0, sizeof w->p);
    w->p[0].base = w->xdg;
    w->p[0].base_private = 1;
    snprintf(w->p[0].rel, sizeof w->p[0].rel, "stasis");
    w->p[0].base_name = "XDG_RUNTIME_DIR";
    w->p[1].base = w->tmp;
    snprintf(w->p[1].rel, sizeof w->p[1].rel, "stasis-%u", (unsigned)geteuid());
    w->p[2].base = w->home;
    w->p[2].base_private = 1;
    snprintf(w->p[2].rel, sizeof w->p[2].rel, ".cache/stasis");
    w->p[2].base_name = "HOME";
    return 0;
}

static void world_path(const struct world *w, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", w->p[i].base, w->p[i].rel);
}

/* The writer's choice, and the reader's once a file is there. */
static int chosen(const struct world *w, int n, char *dir, size_t cap, char *note, size_t ncap)
{
    int r = secret_choose(w->p, n, 1, "coord-1.secret", dir, cap, note, ncap);
    if (r < 0)
        return r;
    char f[4400];
    snprintf(f, sizeof f, "%s/coord-1.secret", dir);
    int fd = open(f, O_WRONLY | O_CREAT, 0600);
    if (fd >= 0)
        close(fd);
    char rdir[4200], rnote[SECRET_NOTE_MAX];
    r = secret_choose(w->p, n, 0, "coord-1.secret", rdir, sizeof rdir, rnote, sizeof rnote);
    CHECKF(r == 0 && strcmp(rdir, dir) == 0, "the reader chose %s (%d), the writer %s", rdir, r, dir);
    return 0;
}

static void test_choose_first_good(void)
{
    struct world w;
    char dir[4200], note[SECRET_NOTE_MAX], want[4400];
    if (!CHECK(world_make(&w) == 0))
        return;
    CHECK(chosen(&w, 3, dir, sizeof dir, note, sizeof note) == 0);
    world_path(&w, 0, want, sizeof want);
    CHECKF(strcmp(dir, want) == 0 && note[0] == 0, "chose %s (note '%s')", dir, note);
    struct stat st;
    CHECK(lstat(want, &st) == 0 && (st.st_mode & 07777) == 0700);
    unit_rmtree(w.root);
}

/* One unusable kind of place 0 or 1: the next one is chosen, and the note
 * names the refused directory and says why. */
static void check_refused(struct world *w, int i, const char *why, const char *what)
{
    char dir[4200], note[SECRET_NOTE_MAX], want[4400], bad[4400];
    world_path(w, i + 1, want, sizeof want);
    world_path(w, i, bad, sizeof bad);
    int r = chosen(w, 3, dir, sizeof dir, note, sizeof note);
    CHECKF(r == 0 && strcmp(dir, want) == 0, "%s: chose %s (%d), want %s", what, dir, r, want);
    CHECKF(strstr(note, bad) && strstr(note, why), "%s: note '%s' does not name %s and say '%s'",
           what, note, bad, why);
}

static void test_choose_skips_unusable(void)
{
    struct world w;
    char bad[4400], elsewhere[4400];
    if (!CHECK(world_make(&w) == 0))
        return;
    const mode_t modes[] = { 0750, 0710, 0705, 0701, 0777 };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        world_path(&w, 0, bad, sizeof bad);
        mkdir(bad, 0700);
        CHECK(chmod(bad, modes[i]) == 0);
        check_refused(&w, 0, "mode", "open directory");
        unit_rmtree(w.root);
        if (!CHECK(world_make(&w) == 0))
            return;
    }
    /* the squatter's tricks on the /tmp place: a symlink, a file */
    world_path(&w, 1, bad, sizeof bad);
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", w.root);
    CHECK(mkdir(elsewhere, 0700) == 0 && symlink(elsewhere, bad) == 0);
    snprintf(w.elsewhere, sizeof w.elsewhere, "%s/no-such-xdg", w.root);
    w.p[0].base = w.elsewhere; /* place 0 is skipped */
    check_refused(&w, 1, "symbolic link", "symlink");
    unlink(bad);
    int fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    close(fd);
    check_refused(&w, 1, "not a directory", "file");
    unit_rmtree(w.root);
}

static void test_choose_checks_bases(void)
{
    struct world w;
    char dir[4200], note[SECRET_NOTE_MAX];
    if (!CHECK(world_make(&w) == 0))
        return;
    /* an XDG_RUNTIME_DIR others may write is not used */
    CHECK(chmod(w.xdg, 0777) == 0);
    check_refused(&w, 0, "others may write it", "open XDG_RUNTIME_DIR");
    /* nor a HOME others may write: with the other places gone, nothing */
    snprintf(w.elsewhere, sizeof w.elsewhere, "%s/no-such-tmp", w.root);
    w.p[1].base = w.elsewhere;
    CHECK(chmod(w.home, 0777) == 0);
    int r = secret_choose(w.p, 3, 1, "coord-1.secret", dir, sizeof dir, note, sizeof note);
    CHECKF(r < 0, "chose %s with every place unusable", dir);
    CHECKF(strstr(note, "HOME=") && strstr(note, "XDG_RUNTIME_DIR="), "note: %s", note);
    unit_rmtree(w.root);
}

/* As root: a directory of another user's (chown) is refused. */
static void test_choose_refuses_other_owner(void)
{
    if (geteuid() != 0)
        return; /* only root can give a directory away; secret-dir-squat.sh covers the rest */
    struct world w;
    char bad[4400];
    if (!CHECK(world_make(&w) == 0))
        return;
    world_path(&w, 0, bad, sizeof bad);
    CHECK(mkdir(bad, 0700) == 0 && chown(bad, 65534, 65534) == 0);
    check_refused(&w, 0, "belongs to uid 65534", "another user's");
    unit_rmtree(w.root);
}

/* The reader takes the first usable place holding the file, and never a
 * refused one, even if it holds the file. */
static void test_reader_skips(void)
{
    struct world w;
    char dir[4200], note[SECRET_NOTE_MAX], p0[4400], p2[4400], f[4500];
    if (!CHECK(world_make(&w) == 0))
        return;
    world_path(&w, 0, p0, sizeof p0);
    world_path(&w, 2, p2, sizeof p2);
    snprintf(f, sizeof f, "%s/.cache", w.home);
    CHECK(mkdir(p0, 0700) == 0 && mkdir(f, 0700) == 0 && mkdir(p2, 0700) == 0);
    snprintf(f, sizeof f, "%s/coord-1.secret", p2);
    close(open(f, O_WRONLY | O_CREAT, 0600));
    int r = secret_choose(w.p, 3, 0, "coord-1.secret", dir, sizeof dir, note, sizeof note);
    CHECKF(r == 0 && strcmp(dir, p2) == 0, "reader chose %s (%d), want %s", dir, r, p2);
    snprintf(f, sizeof f, "%s/coord-1.secret", p0);
    close(open(f, O_WRONLY | O_CREAT, 0600));
    CHECK(chmod(p0, 0755) == 0);
    r = secret_choose(w.p, 3, 0, "coord-1.secret", dir, sizeof dir, note, sizeof note);
    CHECKF(r == 0 && strcmp(dir, p2) == 0, "reader chose %s (%d) past an open directory", dir, r);
    CHECK(secret_choose(w.p, 3, 0, "coord-2.secret", dir, sizeof dir, note, sizeof note) < 0);
    unit_rmtree(w.root);
}

int main(void)
{
    unit_run("secret/create-load", test_create_load);
    unit_run("secret/env-override", test_env_override);
    unit_run("secret/file-must-be-private", test_file_must_be_private);
    unit_run("secret/load-on-small-stack", test_load_on_small_stack);
    unit_run("secret/places-from-env", test_places_from_env);
    unit_run("secret/choose-first-good", test_choose_first_good);
    unit_run("secret/choose-skips-unusable", test_choose_skips_unusable);
    unit_run("secret/choose-checks-bases", test_choose_checks_bases);
    unit_run("secret/choose-refuses-other-owner", test_choose_refuses_other_owner);
    unit_run("secret/reader-skips", test_reader_skips);
    return unit_exit();
}
