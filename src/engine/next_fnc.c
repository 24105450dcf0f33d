/*
 * next_fnc.c — dmtcp_dlsym(): dlsym for plugins, with RTLD_NEXT taken
 * relative to the plugin that calls it, not to the engine.
 *
 * dlsym(RTLD_NEXT, name) looks for the first definition after the object
 * its caller lives in.  Called from here it would start after the engine;
 * so for RTLD_NEXT the caller's object is found from the return address,
 * and the objects loaded after it are asked in load order, each for a
 * definition of its own (not one it only depends on).  Other handles go
 * to dlsym unchanged.  (NEXT_FNC in dmtcp.h calls dlsym from the plugin
 * itself and needs none of this.)
 */
#include <dlfcn.h>
#include <link.h>

#include "engine/engine.h"

/* The first object after `after` in load order that defines symbol. */
static void *next_fnc_after(const struct link_map *after, const char *symbol)
{
    for (const struct link_map *l = after->l_next; l; l = l->l_next) {
        if (!l->l_name || !l->l_name[0])
            continue;
        void *h = dlopen(l->l_name, RTLD_LAZY | RTLD_NOLOAD);
        if (!h)
            continue;
        void *p = dlsym(h, symbol);
        dlclose(h);
        Dl_info info;
        struct link_map *owner = NULL;
        if (p && dladdr1(p, &info, (void **)&owner, RTLD_DL_LINKMAP) && owner == l)
            return p;
    }
    return NULL;
}

ENGINE_API __attribute__((noinline)) void *dmtcp_dlsym(void *handle, const char *symbol)
{
    if (handle != RTLD_NEXT)
        return dlsym(handle, symbol);
    Dl_info info;
    struct link_map *caller = NULL;
    if (!dladdr1(__builtin_return_address(0), &info, (void **)&caller, RTLD_DL_LINKMAP) || !caller)
        return NULL;
    return next_fnc_after(caller, symbol);
}
