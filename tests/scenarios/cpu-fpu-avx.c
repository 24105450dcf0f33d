/*
 * cpu-fpu-avx.c — a thread interrupted mid-computation gets bit-identical
 * results: a worker runs, over and over, a chaotic floating-point
 * computation in SSE (scalar double, sqrt), x87 (long double) and, when the
 * CPU has it, AVX2 (256-bit vectors), with the rounding mode set to
 * round-toward-zero.  Every round's result must equal, bit for bit, a
 * reference computed the same way without interruption; any register or
 * control-word bit lost across the checkpoint changes the result.
 */
#include "scenario.h"

#include <fenv.h>
#include <math.h>

#define ITERS 400000

typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));

struct result {
    uint64_t sse[2];
    uint64_t x87[2];
    uint64_t avx[8];
};

static int have_avx2;
static struct result reference;
static atomic_long rounds, mismatches;
static atomic_int stop;
static atomic_int bad_round_mode;

static void compute_sse(double seed, struct result *r)
{
    double a = 0.1 + seed / 100, b = 0.7, s = 0;
    for (long i = 0; i < ITERS; i++) {
        a = 3.91 * a * (1.0 - a);
        b = 3.77 * b * (1.0 - b);
        s += sqrt(a * b) / (1.0 + a);
    }
    memcpy(&r->sse[0], &a, 8);
    memcpy(&r->sse[1], &s, 8);
}

static void compute_x87(double seed, struct result *r)
{
    long double a = 0.2L + seed / 100, s = 0;
    for (long i = 0; i < ITERS; i++) {
        a = 3.93L * a * (1.0L - a);
        s += a / (2.0L + a);
    }
    memset(r->x87, 0, sizeof(r->x87));
    memcpy(&r->x87[0], &a, 10);
    memcpy(&r->x87[1], &s, 8); /* the low 8 bytes of s (its mantissa) */
}

__attribute__((target("avx2"))) static void compute_avx2(double seed, struct result *r)
{
    v4d a = { 0.11 + seed / 100, 0.23, 0.37, 0.41 }, k = { 3.90, 3.92, 3.95, 3.97 };
    v4d s = { 0, 0, 0, 0 }, one = { 1, 1, 1, 1 };
    v4i x = { 1, 2, 3, (long long)seed };
    for (long i = 0; i < ITERS; i++) {
        a = k * a * (one - a);
        s = s + a / (one + s);
        x = (x << 7) ^ (x >> 3) ^ (x + (v4i){ 11, 13, 17, 19 });
    }
    memcpy(&r->avx[0], &s, 32);
    v4i mixed = x ^ (v4i)a;
    memcpy(&r->avx[4], &mixed, 32);
}

static void compute(struct result *r)
{
    memset(r, 0, sizeof(*r));
    compute_sse(7, r);
    compute_x87(7, r);
    if (have_avx2)
        compute_avx2(7, r);
}

static void *make_reference(void *arg)
{
    (void)arg;
    fesetround(FE_TOWARDZERO);
    compute(&reference);
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    fesetround(FE_TOWARDZERO);
    while (!atomic_load(&stop)) {
        struct result r;
        compute(&r);
        if (memcmp(&r, &reference, sizeof(r)) != 0)
            atomic_fetch_add(&mismatches, 1);
        if (fegetround() != FE_TOWARDZERO)
            atomic_store(&bad_round_mode, 1);
        atomic_fetch_add(&rounds, 1);
    }
    return NULL;
}

int main(void)
{
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2");
    scen_join(scen_thread(make_reference, NULL));
    struct result nearest; /* sanity: the rounding mode matters */
    compute(&nearest);
    if (memcmp(&nearest, &reference, sizeof(nearest)) == 0)
        fail("round-to-nearest and round-toward-zero gave the same results; the test would be blind");

    pthread_t t = scen_thread(worker, NULL);
    SCEN_WAIT_FOR(atomic_load(&rounds) >= 2, "the worker did not finish two rounds");
    if (atomic_load(&mismatches))
        fail("results differed from the reference before any checkpoint");

    scen_ready();
    scen_wait_check();

    long seen = atomic_load(&rounds);
    SCEN_WAIT_FOR(atomic_load(&rounds) >= seen + 2, "the worker made no progress after the check");
    atomic_store(&stop, 1);
    scen_join(t);
    if (atomic_load(&mismatches))
        fail("%ld of %ld rounds gave results that differ from the uninterrupted reference%s",
             atomic_load(&mismatches), atomic_load(&rounds), have_avx2 ? " (AVX2 in use)" : "");
    if (atomic_load(&bad_round_mode))
        fail("the worker's rounding mode changed");
    pass();
}
