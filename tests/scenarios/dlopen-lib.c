/*
 * dlopen-lib.c — a library loaded with dlopen() stays loaded and callable:
 * zlibVersion() and crc32() from libz.so.1, looked up with dlsym before and
 * after the check, give the same results, and the dynamic linker still
 * loads a new library (liblzma.so.5) after the check.  A failed dlopen's
 * message survives calls to malloc and free made before dlerror() reads
 * it, before and after the check (procps's ps frees memory between its
 * dlopen of libnuma and dlerror; an engine whose free looks itself up
 * with dlsym at that moment clears the message, and recursed for ever —
 * pty-shell runs ps, where that first happened).
 */
#include "scenario.h"

#include <dlfcn.h>

typedef const char *(*version_fn)(void);
typedef unsigned long (*crc32_fn)(unsigned long, const unsigned char *, unsigned int);

/* dlopen a library that does not exist, allocate and free, then read
 * dlerror(): it must still name the library */
static void dlerror_kept(const char *when)
{
    if (dlopen("libstasis-no-such-library.so.9", RTLD_NOW))
        fail("%s: dlopen of a library that does not exist succeeded", when);
    for (int i = 0; i < 8; i++) {
        void *volatile p = malloc(40 + (size_t)i * 1000);
        free(p);
    }
    const char *e = dlerror();
    if (!e || !strstr(e, "libstasis-no-such-library.so.9"))
        fail("%s: dlerror() after malloc and free: %s", when, e ? e : "(null)");
}

int main(void)
{
    dlerror_kept("before the check");
    void *z = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!z)
        fail("dlopen libz.so.1: %s", dlerror());
    version_fn ver = (version_fn)dlsym(z, "zlibVersion");
    crc32_fn crc = (crc32_fn)dlsym(z, "crc32");
    if (!ver || !crc)
        fail("dlsym in libz: %s", dlerror());
    char before[64];
    snprintf(before, sizeof(before), "%s", ver());
    static const unsigned char text[] = "The quick brown fox jumps over the lazy dog";
    unsigned long crc_before = crc(0, text, sizeof(text) - 1);
    if (crc_before != 0x414fa339ul)
        fail("crc32 gave %#lx before the checkpoint, expected 0x414fa339", crc_before);

    scen_ready();
    scen_wait_check();

    dlerror_kept("after the check");
    if (strcmp(ver(), before) != 0)
        fail("zlibVersion() through the old pointer: '%s', before '%s'", ver(), before);
    if (crc(0, text, sizeof(text) - 1) != crc_before)
        fail("crc32 through the old pointer changed");
    version_fn ver2 = (version_fn)dlsym(z, "zlibVersion");
    crc32_fn crc2 = (crc32_fn)dlsym(z, "crc32");
    if (ver2 != ver || crc2 != crc)
        fail("dlsym after the check gave other addresses (%p, %p before %p, %p)",
             (void *)ver2, (void *)crc2, (void *)ver, (void *)crc);
    void *z2 = dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (z2 != z)
        fail("dlopen(RTLD_NOLOAD) no longer finds libz.so.1");
    dlclose(z2);

    void *lz = dlopen("liblzma.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!lz)
        fail("dlopen liblzma.so.5 after the check: %s", dlerror());
    version_fn lzver = (version_fn)dlsym(lz, "lzma_version_string");
    if (!lzver || strncmp(lzver(), "5.", 2) != 0)
        fail("lzma_version_string after the check: %s", lzver ? lzver() : dlerror());
    dlclose(lz);
    if (dlclose(z) != 0)
        fail("dlclose libz: %s", dlerror());
    pass();
}
