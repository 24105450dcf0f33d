/*
 * bench-mem.c — the process bench/run.sh checkpoints and restarts.
 *
 *   bench-mem run MIB DIR [text] [ticker] [change=PCT]
 *                               allocate MIB MiB of memory, fill it, then beat
 *                               a heartbeat until killed
 *   bench-mem wait HB T0 PID S  wait until the program behind heartbeat file
 *                               HB has resumed at or after time T0, or until
 *                               process PID died, or S seconds
 *
 * "run" fills an anonymous mapping with an xorshift64 stream (random bytes,
 * so no page is zero and nothing compresses) or, with "text", with an
 * English paragraph repeated over and over (it compresses very well, and is
 * not zeros, so a compressor is what makes the image small), writes DIR/ready
 * ("MIB HASH FILL_SECONDS", atomically), then loops forever: every
 * millisecond the main thread pwrite()s {counter, now, resumed} to DIR/hb,
 * where "resumed" is the time of the first beat after a gap of more than
 * 20 ms (a checkpoint or a restart stopped it).  On SIGUSR1 it regenerates the
 * stream, compares every word of its memory with it and writes DIR/verify:
 * "ok HASH" or "bad OFFSET HASH NWORDS ADDRESS" (first differing byte offset,
 * hash, how many 8-byte words differ, where the memory is) — the proof a
 * restart was exact, taken outside any timed window.  Just before, it writes
 * DIR/vtime ("START END", CLOCK_REALTIME seconds of the check): after a lazy
 * restart the check is what forces every page in, so its end is when the
 * restart's cost has really been paid.
 *
 * On SIGHUP it changes exactly ceil(pages × PCT / 100) distinct 4 KiB pages
 * of its memory (PCT from "change=PCT", default 1), spread at random: round r
 * (r = 1, 2, ...) picks its pages with a generator seeded with r alone and
 * rewrites each page p with incompressible words derived from (p, r).  The
 * round count and each round's PCT live in the program's own memory (they
 * are checkpointed and restored with it), so after R rounds the content of
 * every word is recomputable: the check above compares against the stream
 * with those pages replaced, and a restart from an image taken before a
 * round (or one that lost pages of it) is caught.  It then writes
 * DIR/changed ("ROUND NPAGES HASH SECONDS": HASH is the hash the memory must
 * now have, computed from the model, not read back; SECONDS the time the
 * rewriting took), atomically.  The bench's incremental part uses it.
 *
 * With "ticker", a second thread reads CLOCK_MONOTONIC every ~100 us and
 * keeps the largest gap between two readings: how long the program was
 * stopped (target 2: a forked checkpoint should stop it only briefly).  On
 * SIGUSR1, before the memory check, the main thread writes that gap to
 * DIR/gap ("GAP_NS", atomically) and starts a new one.
 *
 * "wait" is run by the bench right after it starts dmtcp_restart: it polls HB
 * every 50 us and prints "OBSERVED RESUMED" (CLOCK_REALTIME seconds): when it
 * saw the program's first beat after T0, and when the program says that beat
 * happened.  Exit status 0 if seen, 1 on timeout, 2 if PID died first.
 *
 * Times are CLOCK_REALTIME so they compare with bash's $EPOCHREALTIME.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BENCH_SEED 0x9e3779b97f4a7c15ull
#define BENCH_BEAT_NS 1000000ll
#define BENCH_GAP_NS 20000000ll
#define BENCH_TICK_NS 100000ll
#define BENCH_PAGE_WORDS 512u /* 4 KiB pages, as 8-byte words */
#define BENCH_MAX_ROUNDS 255

struct bench_beat {
    int64_t counter;
    int64_t now_ns;
    int64_t resumed_ns;
};

/* The "text" fill: this paragraph, 1,217 bytes (not a multiple of 8 or of a
 * page, so pages differ from each other), repeated to the end of memory. */
static const char bench_text[] =
    "A checkpoint is pure overhead for the user: the program is stopped while its memory goes to "
    "disk, and a restart is time lost before the work resumes. The engine should be bounded by the "
    "hardware, not by itself. When the memory of a process holds text, tables or sparse matrices, "
    "most of it compresses well, and a compressed image is both smaller and, on a slow disk, "
    "faster to write than the raw bytes. Incompressible blocks are detected and stored as they "
    "are, so nothing is lost when compression does not help. Every region of the image carries a "
    "checksum, the table of regions carries another, and a trailer proves that the file is "
    "complete; the image is written under a temporary name, synchronised and then renamed, so a "
    "crash in the middle of a checkpoint never damages the previous one. On restart the engine "
    "maps the memory back at the same addresses, recreates the threads with their registers and "
    "signal masks, reopens the files at the same offsets, and lets the program carry on as if "
    "nothing had happened. The quick brown fox jumps over the lazy dog; pack my box with five "
    "dozen liquor jugs; how vexingly quick daft zebras jump. Numbers, too: 3.14159, 2.71828, "
    "1.41421, 1.61803, 42, 1024, 65536, 1048576.\n";

static struct {
    volatile sig_atomic_t verify_requested;
    int text;                 /* fill with bench_text instead of the random stream */
    uint64_t *pattern;        /* text: the paragraph repeated 8 times, as words */
    size_t pattern_words;     /* = strlen(bench_text) */
    _Atomic int64_t max_gap_ns; /* ticker: largest gap since the last report */
    volatile sig_atomic_t change_requested;
    unsigned change_pct;      /* percent of the pages a round changes */
    unsigned rounds;          /* rounds of changes made (checkpointed with the memory) */
    uint8_t round_pct[BENCH_MAX_ROUNDS + 1]; /* round_pct[r]: the PCT of round r */
} bench = {.change_pct = 1};

static int64_t bench_clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int64_t bench_now_ns(void)
{
    return bench_clock_ns(CLOCK_REALTIME);
}

static inline uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static inline uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Page p as rewritten by round r (r >= 1): word k is splitmix64(key + k). */
static inline uint64_t bench_page_key(size_t p, unsigned r)
{
    return splitmix64(BENCH_SEED ^ splitmix64(((uint64_t)p << 24) ^ r));
}

static inline uint64_t bench_mix(uint64_t h, uint64_t w)
{
    return (h ^ w) * 0x100000001b3ull + (h >> 29);
}

/* The text pattern as whole words: 8 copies of the paragraph are a whole
 * number of 8-byte words, so word i of memory is pattern[i % length]. */
static int bench_text_prepare(void)
{
    size_t len = strlen(bench_text);
    char *p = malloc(len * 8);
    if (!p)
        return -1;
    for (int i = 0; i < 8; i++)
        memcpy(p + (size_t)i * len, bench_text, len);
    bench.pattern = (uint64_t *)p;
    bench.pattern_words = len;
    return 0;
}

/* Word i of the stream, in order: the state is advanced by each call. */
static inline uint64_t bench_next_word(uint64_t *s, size_t *j)
{
    if (!bench.text)
        return xorshift64(s);
    uint64_t w = bench.pattern[*j];
    if (++*j == bench.pattern_words)
        *j = 0;
    return w;
}

/* Scratch memory outside the program's heap (mmap'd and unmapped again), so
 * that the bookkeeping of a change or a check dirties no page of the process
 * that an incremental checkpoint would then have to save. */
static void *bench_scratch(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "bench-mem: cannot map %zu bytes of scratch memory: %s\n", bytes, strerror(errno));
        exit(1);
    }
    return p;
}

/* The pages round r changes: ceil(pages × pct / 100) distinct pages, picked
 * by a generator seeded with r; fn(p, r, arg) for each, in the order picked. */
static size_t bench_round_pages(size_t pages, unsigned r, unsigned pct, void (*fn)(size_t, unsigned, void *),
                                void *arg)
{
    size_t want = (pages * pct + 99) / 100, got = 0, bitmap = pages / 8 + 1;
    if (want > pages)
        want = pages;
    uint8_t *seen = bench_scratch(bitmap);
    uint64_t s = splitmix64(BENCH_SEED ^ ((uint64_t)r * 0xd1b54a32d192ed03ull));
    while (got < want) {
        s = splitmix64(s);
        size_t p = (size_t)(s % pages);
        if (seen[p / 8] & (1u << (p % 8)))
            continue;
        seen[p / 8] |= (uint8_t)(1u << (p % 8));
        fn(p, r, arg);
        got++;
    }
    munmap(seen, bitmap);
    return got;
}

static void bench_note_version(size_t p, unsigned r, void *arg)
{
    ((uint8_t *)arg)[p] = (uint8_t)r;
}

/* version[p]: the last round that rewrote page p (0: never), or NULL when no
 * round ran; unmap with munmap(v, pages). */
static uint8_t *bench_versions(size_t pages)
{
    if (bench.rounds == 0)
        return NULL;
    uint8_t *v = bench_scratch(pages);
    for (unsigned r = 1; r <= bench.rounds; r++)
        bench_round_pages(pages, r, bench.round_pct[r], bench_note_version, v);
    return v;
}

enum bench_mode { BENCH_FILL, BENCH_CHECK, BENCH_MODEL };

/* Fill memory with the stream, check it against the stream, or only hash
 * the stream (BENCH_MODEL: what the memory must hold, not reading it); the
 * stream is the fill with the pages of version[] (may be NULL) replaced by
 * their rewritten content.  Returns the hash (of the memory when checking);
 * *bad = first mismatching word index or -1, *nbad = how many words differ. */
static uint64_t bench_stream(uint64_t *mem, size_t words, enum bench_mode mode, const uint8_t *version,
                             long *bad, long *nbad)
{
    uint64_t s = BENCH_SEED, h = 0xcbf29ce484222325ull;
    size_t j = 0;
    *bad = -1;
    *nbad = 0;
    for (size_t p = 0; p * BENCH_PAGE_WORDS < words; p++) {
        uint64_t key = version && version[p] ? bench_page_key(p, version[p]) : 0;
        size_t i0 = p * BENCH_PAGE_WORDS;
        for (size_t k = 0; k < BENCH_PAGE_WORDS; k++) {
            uint64_t w = bench_next_word(&s, &j); /* the stream always advances */
            if (key)
                w = splitmix64(key + k);
            if (mode == BENCH_CHECK) {
                if (mem[i0 + k] != w) {
                    if (*bad < 0)
                        *bad = (long)(i0 + k);
                    ++*nbad;
                }
                h = bench_mix(h, mem[i0 + k]);
            } else {
                if (mode == BENCH_FILL)
                    mem[i0 + k] = w;
                h = bench_mix(h, w);
            }
        }
    }
    return h;
}

static void bench_rewrite_page(size_t p, unsigned r, void *arg)
{
    uint64_t *w = (uint64_t *)arg + p * BENCH_PAGE_WORDS, key = bench_page_key(p, r);
    for (size_t k = 0; k < BENCH_PAGE_WORDS; k++)
        w[k] = splitmix64(key + k);
}

static void bench_write_file(const char *dir, const char *name, const char *text)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "bench-mem: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void bench_on_usr1(int sig)
{
    (void)sig;
    bench.verify_requested = 1;
}

static void bench_on_hup(int sig)
{
    (void)sig;
    bench.change_requested = 1;
}

/* The ticker thread: the largest gap between two CLOCK_MONOTONIC readings
 * ~100 us apart is how long this thread could not run — parked for a
 * checkpoint, or (much shorter) descheduled. */
static void *bench_ticker(void *arg)
{
    (void)arg;
    int64_t last = bench_clock_ns(CLOCK_MONOTONIC);
    for (;;) {
        struct timespec d = {0, BENCH_TICK_NS};
        nanosleep(&d, NULL);
        int64_t now = bench_clock_ns(CLOCK_MONOTONIC);
        if (now - last > atomic_load_explicit(&bench.max_gap_ns, memory_order_relaxed))
            atomic_store_explicit(&bench.max_gap_ns, now - last, memory_order_relaxed);
        last = now;
    }
    return NULL;
}

static int bench_run(long mib, const char *dir, int ticker)
{
    size_t bytes = (size_t)mib << 20, words = bytes / 8;
    uint64_t *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        fprintf(stderr, "bench-mem: cannot map %ld MiB: %s\n", mib, strerror(errno));
        return 1;
    }
    if (bench.text && bench_text_prepare() < 0) {
        fprintf(stderr, "bench-mem: out of memory for the text pattern\n");
        return 1;
    }
    char path[4096], text[256];
    snprintf(path, sizeof path, "%s/hb", dir);
    int hb = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (hb < 0) {
        fprintf(stderr, "bench-mem: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = bench_on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = bench_on_hup;
    sigaction(SIGHUP, &sa, NULL);

    long bad, nbad;
    size_t pages = words / BENCH_PAGE_WORDS;
    int64_t t0 = bench_now_ns();
    uint64_t hash = bench_stream(mem, words, BENCH_FILL, NULL, &bad, &nbad);
    double fill_s = (double)(bench_now_ns() - t0) / 1e9;
    if (ticker) {
        pthread_t t;
        int rc = pthread_create(&t, NULL, bench_ticker, NULL);
        if (rc != 0) {
            fprintf(stderr, "bench-mem: cannot start the ticker thread: %s\n", strerror(rc));
            return 1;
        }
    }
    snprintf(text, sizeof text, "%ld %016llx %.3f\n", mib, (unsigned long long)hash, fill_s);
    bench_write_file(dir, "ready", text);

    struct bench_beat beat = {0};
    int64_t last = bench_now_ns();
    for (;;) {
        int64_t now = bench_now_ns();
        if (now - last > BENCH_GAP_NS)
            beat.resumed_ns = now;
        last = now;
        beat.counter++;
        beat.now_ns = now;
        if (pwrite(hb, &beat, sizeof beat, 0) != (ssize_t)sizeof beat) {
            fprintf(stderr, "bench-mem: heartbeat write: %s\n", strerror(errno));
            return 1;
        }
        if (bench.verify_requested) {
            bench.verify_requested = 0;
            if (ticker) {
                snprintf(text, sizeof text, "%lld\n", (long long)atomic_exchange(&bench.max_gap_ns, 0));
                bench_write_file(dir, "gap", text);
            }
            int64_t v0 = bench_now_ns();
            uint8_t *version = bench_versions(pages);
            uint64_t h = bench_stream(mem, words, BENCH_CHECK, version, &bad, &nbad);
            if (version)
                munmap(version, pages);
            snprintf(text, sizeof text, "%.6f %.6f\n", (double)v0 / 1e9, (double)bench_now_ns() / 1e9);
            bench_write_file(dir, "vtime", text);
            if (bad < 0)
                snprintf(text, sizeof text, "ok %016llx\n", (unsigned long long)h);
            else
                snprintf(text, sizeof text, "bad %ld %016llx %ld %p\n", bad * 8, (unsigned long long)h, nbad,
                         (void *)mem);
            bench_write_file(dir, "verify", text);
            last = bench_now_ns(); /* the check itself is not a resume */
        }
        if (bench.change_requested) {
            bench.change_requested = 0;
            if (bench.rounds == BENCH_MAX_ROUNDS) {
                snprintf(text, sizeof text, "refused: already %u rounds\n", bench.rounds);
            } else {
                unsigned r = bench.rounds + 1;
                int64_t c0 = bench_now_ns();
                size_t n = bench_round_pages(pages, r, bench.change_pct, bench_rewrite_page, mem);
                double change_s = (double)(bench_now_ns() - c0) / 1e9;
                bench.round_pct[r] = (uint8_t)bench.change_pct;
                bench.rounds = r;
                uint8_t *version = bench_versions(pages);
                uint64_t h = bench_stream(mem, words, BENCH_MODEL, version, &bad, &nbad);
                munmap(version, pages);
                snprintf(text, sizeof text, "%u %zu %016llx %.6f\n", r, n, (unsigned long long)h, change_s);
            }
            bench_write_file(dir, "changed", text);
            last = bench_now_ns(); /* neither is the change */
        }
        struct timespec d = {0, BENCH_BEAT_NS};
        nanosleep(&d, NULL);
    }
}

static int bench_pid_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

static int bench_wait(const char *hbpath, const char *t0s, pid_t pid, double limit_s)
{
    int64_t t0 = (int64_t)(strtod(t0s, NULL) * 1e9);
    int64_t deadline = bench_now_ns() + (int64_t)(limit_s * 1e9);
    int fd = open(hbpath, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "bench-mem: cannot open %s: %s\n", hbpath, strerror(errno));
        return 1;
    }
    for (unsigned n = 0;; n++) {
        struct bench_beat b;
        if (pread(fd, &b, sizeof b, 0) == (ssize_t)sizeof b && b.resumed_ns >= t0) {
            int64_t seen = bench_now_ns();
            printf("%.6f %.6f\n", (double)seen / 1e9, (double)b.resumed_ns / 1e9);
            return 0;
        }
        if (n % 2000 == 0 && pid > 0 && !bench_pid_alive(pid))
            return 2;
        if (bench_now_ns() > deadline)
            return 1;
        struct timespec d = {0, 50000};
        nanosleep(&d, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 4 && argc <= 7 && !strcmp(argv[1], "run")) {
        int ticker = 0;
        for (int i = 4; i < argc; i++) {
            if (!strcmp(argv[i], "text"))
                bench.text = 1;
            else if (!strcmp(argv[i], "ticker"))
                ticker = 1;
            else if (!strncmp(argv[i], "change=", 7) && atoi(argv[i] + 7) >= 1 && atoi(argv[i] + 7) <= 100)
                bench.change_pct = (unsigned)atoi(argv[i] + 7);
            else
                goto usage;
        }
        return bench_run(atol(argv[2]), argv[3], ticker);
    }
    if (argc == 6 && !strcmp(argv[1], "wait"))
        return bench_wait(argv[2], argv[3], (pid_t)atoi(argv[4]), strtod(argv[5], NULL));
usage:
    fprintf(stderr, "usage: bench-mem run MIB DIR [text] [ticker] [change=PCT] | bench-mem wait HBFILE T0 PID SECONDS\n");
    return 1;
}
