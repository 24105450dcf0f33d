/*
 * prog-pages.c — the program the incremental-checkpoint tests checkpoint.
 *
 *   prog-pages CTLDIR [MIB]
 *
 * Holds MIB MiB (default 64) of anonymous memory filled with a
 * pseudo-random pattern (incompressible, so image sizes mean something):
 * page p at version v holds words derived from (id, p, v), where id is a
 * random number chosen at start.  Round r (r = 1, 2, ...) rewrites a set of
 * pages chosen by a generator seeded with (id, r) to version r, so the
 * content of every byte after R rounds is recomputable from id and R alone.
 *
 * The tests drive it through the file CTLDIR/cmd, one line "SEQ ACTION",
 * polled every 5 ms; a command is carried out once, when SEQ is larger
 * than the last one it carried out (a restarted process remembers the
 * last SEQ of its image, so the tests remove cmd before a restart and go
 * on with larger numbers):
 *   SEQ change [PCT]  one round changing PCT % of the pages (default 1;
 *                     exactly ceil(pages * PCT / 100) distinct pages)
 *   SEQ verify        check every byte against the pattern of the round
 *                     the program is at
 * Output, one line each, flushed:
 *   start id=ID round=0 pages=N addr=0xADDR
 *   done SEQ change round=R changed=K
 *   done SEQ verify round=R id=ID ok | BAD page P word W
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / 8u)

static struct {
    uint64_t id;
    uint64_t *mem;
    size_t npages;
    uint64_t round;
    uint64_t last_seq;
    uint32_t pct[4096]; /* pct[r]: the percentage round r changed */
} prog;

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t page_key(size_t p, uint64_t version)
{
    return splitmix(prog.id ^ splitmix(((uint64_t)p << 24) ^ version));
}

static void page_fill(size_t p, uint64_t version)
{
    uint64_t k = page_key(p, version), *w = prog.mem + p * WORDS;
    for (unsigned i = 0; i < WORDS; i++)
        w[i] = splitmix(k + i);
}

/* the first differing word of page p, or -1 */
static long page_check(size_t p, uint64_t version)
{
    uint64_t k = page_key(p, version);
    const uint64_t *w = prog.mem + p * WORDS;
    for (unsigned i = 0; i < WORDS; i++)
        if (w[i] != splitmix(k + i))
            return (long)i;
    return -1;
}

/* The pages round r changes, distinct, in the order chosen: calls fn(p). */
static size_t round_pages(uint64_t r, uint32_t pct, void (*fn)(size_t, uint64_t, uint32_t *), uint32_t *ver)
{
    size_t want = (prog.npages * pct + 99) / 100, got = 0;
    if (want > prog.npages)
        want = prog.npages;
    uint8_t *seen = calloc(prog.npages / 8 + 1, 1);
    if (!seen) {
        perror("prog-pages: calloc");
        exit(1);
    }
    uint64_t s = splitmix(prog.id ^ (r * 0xd1b54a32d192ed03ull));
    while (got < want) {
        s = splitmix(s);
        size_t p = (size_t)(s % prog.npages);
        if (seen[p / 8] & (1u << (p % 8)))
            continue;
        seen[p / 8] |= (uint8_t)(1u << (p % 8));
        fn(p, r, ver);
        got++;
    }
    free(seen);
    return got;
}

static void change_one(size_t p, uint64_t r, uint32_t *ver)
{
    (void)ver;
    page_fill(p, r);
}

static void note_one(size_t p, uint64_t r, uint32_t *ver)
{
    ver[p] = (uint32_t)r;
}

static void do_change(uint64_t seq, uint32_t pct)
{
    if (prog.round + 1 >= sizeof prog.pct / sizeof prog.pct[0]) {
        printf("done %" PRIu64 " change round=%" PRIu64 " refused: too many rounds\n", seq, prog.round);
        return;
    }
    prog.pct[prog.round + 1] = pct;
    size_t k = round_pages(prog.round + 1, pct, change_one, NULL);
    prog.round++;
    printf("done %" PRIu64 " change round=%" PRIu64 " changed=%zu\n", seq, prog.round, k);
}

static void do_verify(uint64_t seq)
{
    uint32_t *ver = calloc(prog.npages, sizeof *ver);
    if (!ver) {
        perror("prog-pages: calloc");
        exit(1);
    }
    for (uint64_t r = 1; r <= prog.round; r++)
        round_pages(r, prog.pct[r], note_one, ver);
    for (size_t p = 0; p < prog.npages; p++) {
        long w = page_check(p, ver[p]);
        if (w >= 0) {
            printf("done %" PRIu64 " verify round=%" PRIu64 " id=%016" PRIx64 " BAD page %zu word %ld (version %u)\n",
                   seq, prog.round, prog.id, p, w, ver[p]);
            free(ver);
            return;
        }
    }
    free(ver);
    printf("done %" PRIu64 " verify round=%" PRIu64 " id=%016" PRIx64 " ok\n", seq, prog.round, prog.id);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: prog-pages CTLDIR [MIB]\n");
        return 2;
    }
    long mib = argc > 2 ? atol(argv[2]) : 64;
    if (mib <= 0)
        mib = 64;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, &prog.id, sizeof prog.id) != (ssize_t)sizeof prog.id)
        prog.id = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)time(NULL);
    if (fd >= 0)
        close(fd);
    prog.npages = (size_t)mib * (1u << 20) / PAGE;
    prog.mem = mmap(NULL, prog.npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (prog.mem == MAP_FAILED) {
        perror("prog-pages: mmap");
        return 1;
    }
    for (size_t p = 0; p < prog.npages; p++)
        page_fill(p, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/cmd", argv[1]);
    printf("start id=%016" PRIx64 " round=0 pages=%zu addr=%p\n", prog.id, prog.npages, (void *)prog.mem);
    fflush(stdout);
    for (;;) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char line[128] = "";
        char *got = fgets(line, sizeof line, f);
        fclose(f);
        uint64_t seq;
        char action[32];
        unsigned pct = 1;
        int n = got ? sscanf(line, "%" SCNu64 " %31s %u", &seq, action, &pct) : 0;
        if (n < 2 || seq <= prog.last_seq)
            continue;
        prog.last_seq = seq;
        if (!strcmp(action, "change"))
            do_change(seq, pct >= 1 && pct <= 100 ? pct : 1);
        else if (!strcmp(action, "verify"))
            do_verify(seq);
        else
            printf("done %" PRIu64 " %s unknown\n", seq, action);
        fflush(stdout);
    }
}
