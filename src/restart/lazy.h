/*
 * lazy.h — lazy restart in the restart helper (lazy.c).
 */
#ifndef STASIS_RESTART_LAZY_H
#define STASIS_RESTART_LAZY_H

#include <stdint.h>

#include "common/image.h"

/* Open a userfaultfd; bookkeeping goes in [area, area + len).  0, or a
 * negative errno when lazy restart is not possible here. */
int lazy_init(uint64_t area, uint64_t len);
/* Register mapped region r to be loaded on demand: 1, or 0 when it must be
 * loaded now (not lazily loadable, or registration failed). */
int lazy_add(int img, const struct image_region *r);
/* Start the server for the registered regions: its pid, or 0 if none. */
int lazy_start(int img);
/* Bytes of memory registered. */
uint64_t lazy_bytes(void);

#endif
