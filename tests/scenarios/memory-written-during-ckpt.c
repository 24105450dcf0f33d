/*
 * memory-written-during-ckpt.c — memory that threads keep rewriting while
 * the checkpoint is taken comes back as one consistent instant: each word
 * holds either the generation being written or the one before, split
 * exactly where the thread was, and the thread goes on from there.
 *
 * Four threads each own a 16 MiB buffer.  A pass over the buffer checks
 * every word against the pattern of generation g (thread, g) and replaces
 * it with the pattern of g + 1; the generation counter goes up after each
 * complete pass.  So every pass also verifies the one before it: a page
 * restored from another moment (a torn copy-on-write snapshot, a stale
 * inherited page of an incremental image, a block lost in compression)
 * shows up as a word of neither generation the next time the thread gets
 * there.  After `check` each thread finishes at least two more passes
 * (progress after the restart), stops at the end of a pass and verifies its
 * whole buffer holds exactly its last completed generation; the counter
 * must never have gone back.
 */
#include "scenario.h"

#include <sys/mman.h>

#define NTHREADS 4
#define BUF_BYTES ((size_t)16 << 20)
#define BUF_WORDS (BUF_BYTES / sizeof(uint64_t))

struct writer {
    int index;
    uint64_t *buf;
    _Atomic uint64_t gen;    /* complete passes */
    _Atomic uint64_t target; /* stop at the end of the first pass reaching it (0: never) */
};

static struct writer writers[NTHREADS];

static uint64_t writer_seed(int t, uint64_t gen)
{
    return ((uint64_t)(t + 1) << 48) ^ (gen * 0x9e3779b97f4a7c15ull);
}

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    for (;;) {
        uint64_t g = atomic_load(&w->gen);
        uint64_t now = writer_seed(w->index, g), next = writer_seed(w->index, g + 1);
        for (size_t i = 0; i < BUF_WORDS; i++) {
            if (w->buf[i] != scen_pattern_word(now, i))
                fail("thread %d, pass %" PRIu64 " -> %" PRIu64 ": word %zu (offset %zu) holds %016" PRIx64
                     ", expected generation %" PRIu64 "'s %016" PRIx64 " (generation %" PRIu64 "'s would be %016" PRIx64 ")",
                     w->index, g, g + 1, i, i * 8, w->buf[i], g, scen_pattern_word(now, i), g + 1,
                     scen_pattern_word(next, i));
            w->buf[i] = scen_pattern_word(next, i);
        }
        atomic_store(&w->gen, g + 1);
        uint64_t t = atomic_load(&w->target);
        if (t && g + 1 >= t)
            return NULL;
    }
}

int main(void)
{
    pthread_t tids[NTHREADS];
    uint64_t at_ready[NTHREADS], at_check[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        struct writer *w = &writers[t];
        w->index = t;
        w->buf = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (w->buf == MAP_FAILED)
            fail_errno("mmap %zu bytes", BUF_BYTES);
        scen_fill(w->buf, BUF_BYTES, writer_seed(t, 0)); /* generation 0 */
    }
    for (int t = 0; t < NTHREADS; t++)
        tids[t] = scen_thread(writer_run, &writers[t]);
    /* every thread is past its first pass: the writing is under way */
    for (int t = 0; t < NTHREADS; t++)
        SCEN_WAIT_FOR(atomic_load(&writers[t].gen) >= 1, "thread %d never completed a pass", t);
    for (int t = 0; t < NTHREADS; t++)
        at_ready[t] = atomic_load(&writers[t].gen);

    scen_ready();
    scen_wait_check();

    for (int t = 0; t < NTHREADS; t++) {
        at_check[t] = atomic_load(&writers[t].gen);
        SCEN_CHECK(at_check[t] >= at_ready[t], "thread %d: generation %" PRIu64 " at check, %" PRIu64 " at ready: the counter went back",
                   t, at_check[t], at_ready[t]);
        atomic_store(&writers[t].target, at_check[t] + 2);
    }
    for (int t = 0; t < NTHREADS; t++)
        scen_join(tids[t]);
    for (int t = 0; t < NTHREADS; t++) {
        struct writer *w = &writers[t];
        uint64_t g = atomic_load(&w->gen);
        SCEN_CHECK(g >= at_check[t] + 2, "thread %d stopped at generation %" PRIu64 ", %" PRIu64 " at check", t, g,
                   at_check[t]);
        char what[64];
        snprintf(what, sizeof what, "thread %d's buffer, generation %" PRIu64, t, g);
        scen_expect_pattern(what, w->buf, BUF_BYTES, writer_seed(t, g));
    }
    pass();
}
