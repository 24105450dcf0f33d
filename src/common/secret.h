/*
 * secret.h — the coordinator's secret: where its file lives, and reading
 * and writing it.
 *
 * A coordinator makes a random token (SECRET_HEX_LEN hex digits) when it
 * starts and keeps it, mode 0600, in coord-PORT.secret of a private per-user
 * directory: the first usable one of
 *   1. $XDG_RUNTIME_DIR/stasis  (XDG_RUNTIME_DIR: absolute, a directory of
 *                                the user's that no one else may write)
 *   2. /tmp/stasis-UID
 *   3. $HOME/.cache/stasis      (HOME: the same conditions as XDG_RUNTIME_DIR)
 * A directory is usable when it is a real directory (not a symbolic link),
 * owned by the user, with no access for group or others; every directory on
 * the way that is not usable is named, with the reason, in a note the
 * coordinator prints.  So another user who creates /tmp/stasis-UID first
 * cannot keep the user from starting a coordinator, and the user's clients
 * find the secret by the same rule: the first usable directory holding the
 * file.  STASIS_COORD_SECRET, when set, is the token for every port.
 *
 * The token is never sent: auth.h derives a key from it.  No global state;
 * secret_load runs in the engine at start-up (no malloc, no stdio).
 */
#ifndef STASIS_SECRET_H
#define STASIS_SECRET_H

#include <stddef.h>

#define SECRET_HEX_LEN 64     /* a new token: 32 random bytes, in hex */
#define SECRET_TOKEN_SIZE 72  /* a token, NUL-padded: at most 71 characters */
#define SECRET_PATH_MAX 4200
#define SECRET_NOTE_MAX 1200
#define SECRET_MAX_PLACES 3

/* Where a token was (or would be) found, for messages. */
struct secret_where {
    char path[SECRET_PATH_MAX];  /* the file read or written; for a failed load,
                                    the file looked for first; "" = from
                                    STASIS_COORD_SECRET */
    char note[SECRET_NOTE_MAX];  /* each directory refused on the way and why;
                                    "" = none */
};

/* Reads the token for port into tok: STASIS_COORD_SECRET if set, else the
 * file.  0 or -errno (-ENOENT: no usable directory holds the file, -EPERM:
 * the file is not private to the user); w may be NULL. */
int secret_load(int port, char tok[SECRET_TOKEN_SIZE], struct secret_where *w);

/* Reads the token from the file at path (found earlier by secret_load,
 * whose w->path names it), with the same checks: a regular file of the
 * user's, private to the user.  0 or -errno. */
int secret_load_file(const char *path, char tok[SECRET_TOKEN_SIZE]);

/* Makes a new random token for port, stores it (replacing an old file) and
 * returns it in tok.  0 or -errno; w (not NULL) says where and what was
 * refused on the way. */
int secret_create(int port, char tok[SECRET_TOKEN_SIZE], struct secret_where *w);

/* ---- the places, exposed for the unit tests -------------------------- */

/* A candidate directory: base/rel.  base must exist; when base_private it
 * must also be the user's and not writable by group or others.  rel has at
 * most one '/': an intermediate directory may be a symbolic link the user
 * made (in a base only the user writes), the last component may not. */
struct secret_place {
    const char *base;       /* points into the environment (or a caller's string) */
    int base_private;
    char rel[64];
    const char *base_name;  /* how to name base in a note, e.g. "XDG_RUNTIME_DIR" */
};

/* The places of the list above, from the environment; returns how many. */
int secret_places(struct secret_place p[SECRET_MAX_PLACES]);

/* The first usable place of p[0..n): for a writer (create != 0) missing
 * directories are made, mode 0700; a reader takes the first usable place
 * holding `file` (a name; NULL = any usable place).  dir receives the
 * directory, note the places refused (with reasons).  0 or -errno. */
int secret_choose(const struct secret_place *p, int n, int create, const char *file,
                  char *dir, size_t dircap, char *note, size_t notecap);

#endif
