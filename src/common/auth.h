/*
 * auth.h — mutual authentication of the coordinator and its clients, and
 * the client's side of the handshake (the coordinator's side is
 * src/coordinator/worker.c).
 *
 * Both ends hold the coordinator's token (secret.h); neither ever sends it.
 * key = BLAKE2b-256(token), and each end proves it holds the key with a
 * keyed BLAKE2b-256 (libsodium's crypto_generichash) over a label, the
 * coordinator's port and both ends' random nonces:
 *
 *   HELLO      client → coord   client nonce (32 bytes, getrandom)
 *   CHALLENGE  coord → client   server nonce, MAC(key, AUTH_LABEL_COORD || port || nonces)
 *   AUTH       client → coord   MAC(key, AUTH_LABEL_CLIENT || port || nonces)
 *   WELCOME    coord → client   (or REJECT, bad secret)
 *
 * port is a u16, little-endian: the coordinator's own listening port, and
 * the port the client dialled — so a proof obtained from a coordinator on
 * another port cannot be relayed.  "nonces" is the client nonce, then the
 * server nonce.  The client checks the coordinator's proof (in constant
 * time) before it sends its own: a program that does not know the token
 * learns nothing from a client but a random nonce, and is refused.  Every
 * read and write of the handshake is bounded by one deadline.
 *
 * Runs in the engine (at start-up and while restarting): no malloc, no
 * stdio but snprintf, no global state.
 */
#ifndef STASIS_AUTH_H
#define STASIS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "common/secret.h"

#define AUTH_KEY_LEN 32
#define AUTH_HANDSHAKE_MS 10000 /* the whole client handshake, and the coordinator's bound */
#define AUTH_LABEL_COORD "stasis coordinator v2"
#define AUTH_LABEL_CLIENT "stasis client v2"

/* key = BLAKE2b-256 of the token's characters (any length). */
void auth_key(const char token[SECRET_TOKEN_SIZE], uint8_t key[AUTH_KEY_LEN]);

/* proof = keyed BLAKE2b-256 of label || port (u16 LE) || cnonce || snonce. */
void auth_proof(const uint8_t key[AUTH_KEY_LEN], const char *label, int port,
                const uint8_t cnonce[PROTO_NONCE_LEN], const uint8_t snonce[PROTO_NONCE_LEN],
                uint8_t out[PROTO_PROOF_LEN]);

/* 1 when the proofs are equal, compared in constant time. */
int auth_proof_equal(const uint8_t a[PROTO_PROOF_LEN], const uint8_t b[PROTO_PROOF_LEN]);

/* PROTO_NONCE_LEN random bytes; 0 or -errno. */
int auth_nonce(uint8_t out[PROTO_NONCE_LEN]);

/* Forget a key or proof (not optimised away). */
void auth_wipe(void *p, size_t n);

enum auth_result {
    AUTH_OK = 0,
    AUTH_IO,          /* sending or receiving failed: err is -errno (-ETIMEDOUT: the
                         deadline passed, -ECONNRESET: the peer closed) */
    AUTH_NO_TOKEN,    /* this user holds no token for the port: nothing was sent */
    AUTH_IMPOSTOR,    /* the peer's proof is wrong: it does not know the token */
    AUTH_NOT_STASIS,  /* the peer answered with something else (got_type; 0 = malformed) */
    AUTH_OLD_VERSION, /* the peer speaks protocol version 1 */
    AUTH_REJECTED,    /* the coordinator sent REJECT (reject holds its reason) */
};

struct auth_client {
    /* in */
    struct msg_hello hello;       /* all but the nonce, which the handshake draws */
    const char *token;            /* NUL-terminated; NULL or "" = none */
    int port;                     /* the port the client dialled */
    int timeout_ms;               /* bound on the whole handshake */
    /* out */
    int err;                      /* AUTH_IO: -errno */
    uint16_t got_type;            /* AUTH_NOT_STASIS: the message type received */
    struct msg_welcome welcome;   /* AUTH_OK */
    struct msg_reject reject;     /* AUTH_REJECTED, reason NUL-terminated */
};

/* Runs the client's handshake on a connected socket; enum auth_result.  The
 * socket is left as it was found (blocking or not), with no timeouts. */
int auth_client_handshake(int fd, struct auth_client *a);

/* One sentence (no newline) for a failed handshake with host:port, saying
 * what it means and what to do. */
void auth_describe(const struct auth_client *a, int result, const char *host, char *buf,
                   size_t cap);

#endif
