/*
 * secret.c — the coordinator's secret on disk (see secret.h): choosing the
 * private directory, refusing any directory another user could have made or
 * could write, reading the token, and storing a new one.
 *
 * Every check is made on what is actually there: lstat for the directory
 * itself (a symbolic link is refused), O_NOFOLLOW and fstat for the file.
 * Functions return 0 or -errno and describe refusals in a caller's buffer.
 */
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_TMP_BASE "/tmp"

/* Appends one formatted sentence to note ("; " between sentences). */
static void secret_note(char *note, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void secret_note(char *note, size_t cap, const char *fmt, ...)
{
    if (!note || cap == 0)
        return;
    size_t len = strnlen(note, cap);
    if (len + 3 >= cap)
        return;
    if (len > 0) {
        memcpy(note + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + len, cap - len, fmt, ap);
    va_end(ap);
}

/* ---- the places --------------------------------------------------------- */

static void secret_place_set(struct secret_place *p, const char *base, int base_private,
                             const char *rel, const char *base_name)
{
    p->base = base;
    p->base_private = base_private;
    snprintf(p->rel, sizeof p->rel, "%s", rel);
    p->base_name = base_name;
}

int secret_places(struct secret_place p[SECRET_MAX_PLACES])
{
    int n = 0;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0])
        secret_place_set(&p[n++], xdg, 1, "stasis", "XDG_RUNTIME_DIR");
    char rel[64];
    snprintf(rel, sizeof rel, "stasis-%u", (unsigned)geteuid());
    secret_place_set(&p[n++], SECRET_TMP_BASE, 0, rel, NULL);
    const char *home = getenv("HOME");
    if (home && home[0])
        secret_place_set(&p[n++], home, 1, ".cache/stasis", "HOME");
    return n;
}

/* ---- checking directories ----------------------------------------------- */

/* Why st (of the directory itself, not followed) is not usable, or NULL. */
static const char *secret_dir_unusable(const struct stat *st, char *why, size_t cap)
{
    if (S_ISLNK(st->st_mode))
        return "it is a symbolic link";
    if (!S_ISDIR(st->st_mode))
        return "it is not a directory";
    if (st->st_uid != geteuid()) {
        snprintf(why, cap, "it belongs to uid %u, not to you (uid %u): another user may have "
                 "made it to keep you out", (unsigned)st->st_uid, (unsigned)geteuid());
        return why;
    }
    if (st->st_mode & 077) {
        snprintf(why, cap, "its mode is %04o, open to group or others (chmod 700 makes it "
                 "usable again)", (unsigned)(st->st_mode & 07777));
        return why;
    }
    return NULL;
}

/* A base (XDG_RUNTIME_DIR, HOME) or an intermediate directory, followed:
 * a directory of the user's that no one else may write.  NULL when so. */
static const char *secret_dir_unwritable_by_others(const char *path, char *why, size_t cap)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return why;
    }
    if (!S_ISDIR(st.st_mode))
        return "it is not a directory";
    if (st.st_uid != geteuid()) {
        snprintf(why, cap, "it belongs to uid %u, not to you", (unsigned)st.st_uid);
        return why;
    }
    if (st.st_mode & 022) {
        snprintf(why, cap, "its mode is %04o: others may write it", (unsigned)(st.st_mode & 07777));
        return why;
    }
    return NULL;
}

/* mkdir when asked, tolerating a directory that is already there. */
static int secret_mkdir(const char *path, int create)
{
    if (!create)
        return 0;
    if (mkdir(path, 0700) == 0)
        return chmod(path, 0700) < 0 ? -errno : 0; /* whatever the umask */
    return errno == EEXIST ? 0 : -errno;
}

/* out = a/b, or -ENAMETOOLONG. */
static int secret_join(char *out, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > cap)
        return -ENAMETOOLONG;
    memmove(out, a, la); /* out may be a */
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return 0;
}

/* Makes (when create) and checks the intermediate directory of p->rel, if
 * it has one, built in dir (which the caller then reuses).  0, 1 (missing,
 * reader), or -errno with *whyp set. */
static int secret_place_middle(const struct secret_place *p, int create, char *dir, size_t dircap,
                               char *why, size_t cap, const char **whyp)
{
    const char *slash = strchr(p->rel, '/');
    if (!slash)
        return 0;
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)(slash - p->rel), p->rel);
    if (secret_join(dir, dircap, p->base, first) < 0)
        return -ENAMETOOLONG;
    int r = secret_mkdir(dir, create);
    if (r < 0) {
        snprintf(why, cap, "cannot create %.160s: %s", dir, strerror(-r));
        *whyp = why;
        return r;
    }
    if (!create && access(dir, F_OK) < 0)
        return 1;
    *whyp = secret_dir_unwritable_by_others(dir, why, cap);
    return *whyp ? -EPERM : 0;
}

/* Is base/rel usable (made first when create)?  0 usable, 1 missing (a
 * reader skips it silently), -errno refused with *whyp set.  dir receives
 * base/rel either way. */
static int secret_place_check(const struct secret_place *p, int create, char *dir, size_t dircap,
                              char *why, size_t cap, const char **whyp)
{
    *whyp = NULL;
    if (p->base[0] != '/') {
        secret_join(dir, dircap, p->base, p->rel);
        *whyp = "it is not an absolute path";
        return -EINVAL;
    }
    int r = 0;
    if (p->base_private && (*whyp = secret_dir_unwritable_by_others(p->base, why, cap)))
        r = -EPERM;
    if (r == 0)
        r = secret_place_middle(p, create, dir, dircap, why, cap, whyp);
    if (secret_join(dir, dircap, p->base, p->rel) < 0) {
        *whyp = "the path is too long";
        return -ENAMETOOLONG;
    }
    if (r != 0)
        return r;
    r = secret_mkdir(dir, create);
    if (r < 0) {
        snprintf(why, cap, "cannot create it: %s", strerror(-r));
        *whyp = why;
        return r;
    }
    struct stat st;
    if (lstat(dir, &st) < 0) {
        if (errno == ENOENT && !create)
            return 1;
        snprintf(why, cap, "%s", strerror(errno));
        *whyp = why;
        return -errno;
    }
    *whyp = secret_dir_unusable(&st, why, cap);
    return *whyp ? -EPERM : 0;
}

/* Does dir hold file?  (dir is extended in place, then restored.) */
static int secret_dir_holds(char *dir, size_t dircap, const char *file)
{
    size_t len = strlen(dir);
    if (len + 1 + strlen(file) + 1 > dircap)
        return 0;
    dir[len] = '/';
    strcpy(dir + len + 1, file);
    int yes = access(dir, F_OK) == 0;
    dir[len] = 0;
    return yes;
}

/* Names a refused place in the note: the base for a bad base, else the dir. */
static void secret_note_refused(const struct secret_place *p, const char *dir, const char *why,
                                char *note, size_t cap)
{
    if (p->base_name)
        secret_note(note, cap, "not using %s (%s=%s): %s", dir, p->base_name, p->base, why);
    else
        secret_note(note, cap, "not using %s: %s", dir, why);
}

int secret_choose(const struct secret_place *p, int n, int create, const char *file,
                  char *dir, size_t dircap, char *note, size_t notecap)
{
    int first_err = -ENOENT;
    if (note && notecap)
        note[0] = 0;
    for (int i = 0; i < n; i++) {
        char why[256];
        const char *whyp;
        int r = secret_place_check(&p[i], create, dir, dircap, why, sizeof why, &whyp);
        if (r < 0) {
            secret_note_refused(&p[i], dir, whyp ? whyp : strerror(-r), note, notecap);
            if (first_err == -ENOENT)
                first_err = r;
            continue;
        }
        if (r == 0 && (!file || create || secret_dir_holds(dir, dircap, file)))
            return 0;
    }
    return first_err;
}

/* ---- the token ---------------------------------------------------------- */

/* Copy a token, trimming trailing whitespace; -EINVAL if empty or too long. */
static int secret_copy(const char *src, size_t n, char out[SECRET_TOKEN_SIZE])
{
    while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == '\r' || src[n - 1] == ' '))
        n--;
    if (n == 0 || n > SECRET_TOKEN_SIZE - 1)
        return -EINVAL;
    memset(out, 0, SECRET_TOKEN_SIZE);
    memcpy(out, src, n);
    return 0;
}

/* The file must be a regular file of the user's, private to the user. */
static int secret_read_file(const char *path, char out[SECRET_TOKEN_SIZE])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ELOOP ? -EPERM : -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077)) {
        close(fd);
        return -EPERM;
    }
    char buf[128];
    ssize_t n;
    do {
        n = read(fd, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    int r = n < 0 ? -errno : secret_copy(buf, (size_t)n, out);
    explicit_bzero(buf, sizeof buf); /* no stray copy, e.g. in an image of the engine */
    close(fd);
    return r;
}

int secret_load_file(const char *path, char out[SECRET_TOKEN_SIZE])
{
    return secret_read_file(path, out);
}

static void secret_file_name(int port, char *name, size_t cap)
{
    snprintf(name, cap, "coord-%d.secret", port);
}

/* For a message: the file in the first place a coordinator could use. */
static void secret_name_expected(const struct secret_place *p, int n, const char *name,
                                 char *path, size_t cap)
{
    for (int i = 0; i < n; i++) {
        char why[256];
        const char *whyp;
        if (secret_place_check(&p[i], 0, path, cap, why, sizeof why, &whyp) >= 0) {
            if (strlen(path) + 1 + strlen(name) < cap)
                strcat(strcat(path, "/"), name);
            return;
        }
    }
    path[0] = 0;
}

int secret_load(int port, char tok[SECRET_TOKEN_SIZE], struct secret_where *w)
{
    if (w)
        w->path[0] = w->note[0] = 0;
    const char *env = getenv("STASIS_COORD_SECRET");
    if (env && env[0])
        return secret_copy(env, strlen(env), tok);
    struct secret_place places[SECRET_MAX_PLACES];
    int n = secret_places(places);
    char dir[SECRET_PATH_MAX], name[64];
    secret_file_name(port, name, sizeof name);
    int r = secret_choose(places, n, 0, name, dir, sizeof dir, w ? w->note : NULL,
                          w ? sizeof w->note : 0);
    if (r < 0) {
        if (w)
            secret_name_expected(places, n, name, w->path, sizeof w->path);
        return -ENOENT;
    }
    r = secret_join(dir, sizeof dir, dir, name); /* fits: secret_choose found it */
    if (w)
        snprintf(w->path, sizeof w->path, "%s", dir);
    return r < 0 ? r : secret_read_file(dir, tok);
}

static int secret_random(char out[SECRET_TOKEN_SIZE])
{
    unsigned char raw[SECRET_HEX_LEN / 2];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    memset(out, 0, SECRET_TOKEN_SIZE);
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    return 0;
}

static int secret_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Write the token to a new private file in the (private) directory, then
 * rename it into place. */
static int secret_store(const char *path, const char tok[SECRET_TOKEN_SIZE])
{
    char tmp[SECRET_PATH_MAX + 32];
    int n = snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -ENAMETOOLONG;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char line[SECRET_HEX_LEN + 1];
    memcpy(line, tok, SECRET_HEX_LEN);
    line[SECRET_HEX_LEN] = '\n';
    int r = secret_write_all(fd, line, sizeof line);
    if (r == 0 && fchmod(fd, 0600) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    return r;
}

int secret_create(int port, char tok[SECRET_TOKEN_SIZE], struct secret_where *w)
{
    w->path[0] = w->note[0] = 0;
    struct secret_place places[SECRET_MAX_PLACES];
    int n = secret_places(places);
    char dir[SECRET_PATH_MAX], name[64];
    secret_file_name(port, name, sizeof name);
    int r = secret_choose(places, n, 1, name, dir, sizeof dir, w->note, sizeof w->note);
    if (r < 0)
        return r;
    if (w->note[0])
        secret_note(w->note, sizeof w->note, "the secret goes to %s instead", dir);
    r = secret_join(w->path, sizeof w->path, dir, name);
    if (r == 0)
        r = secret_random(tok);
    return r < 0 ? r : secret_store(w->path, tok);
}
