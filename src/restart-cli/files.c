/*
 * files.c — before a restart: the programs and libraries the image maps
 * from their files are still those files.
 *
 * An image keeps only the pages of a program's or library's private
 * mappings that the process changed; at restart the rest is mapped from
 * the file again.  Code and data from two versions of a library must never
 * meet, so a file that was replaced (upgraded, rebuilt) or removed since the
 * checkpoint stops the restart here, with its name, instead of crashing the
 * program later.  Size and modification time identify the file, as
 * package managers and build tools change both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/image_check.h"
#include "restart-cli/files.h"

static void files_time(char *out, size_t cap, int64_t ns)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "%lld", (long long)t);
}

int files_check(const char *image, int fd, const struct image_header *hdr, char *err, size_t cap)
{
    size_t len = hdr->strings_offset + hdr->strings_size - hdr->table_offset; /* table, then strings */
    char *buf = malloc(len + 1);
    if (!buf || image_read_at(fd, buf, len, hdr->table_offset) < 0) {
        snprintf(err, cap, "%s: cannot read its region table: %s", image, strerror(buf ? EIO : ENOMEM));
        free(buf);
        return -1;
    }
    buf[len] = 0;
    const struct image_region *regions = (const struct image_region *)buf;
    const char *strings = buf + (hdr->strings_offset - hdr->table_offset);
    int rc = 0;
    for (uint64_t i = 0; i < hdr->nregions && rc == 0; i++) {
        const struct image_region *r = &regions[i];
        if (r->kind != REGION_FILE_PRIVATE || !(r->flags & REGION_F_FROM_FILE) || !r->path_len)
            continue;
        /* checked by image_check_file, but read again from the file here */
        if (r->path_offset >= hdr->strings_size || r->path_len >= hdr->strings_size - r->path_offset)
            continue;
        const char *path = strings + r->path_offset; /* NUL-terminated by buf[len] at worst */
        struct stat st;
        if (stat(path, &st) < 0) {
            snprintf(err, cap, "%s: it runs code from %s, which is gone (%s); put the file back, or restart "
                     "where it exists", image, path, strerror(errno));
            rc = -1;
            continue;
        }
        int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if ((uint64_t)st.st_size == r->file_size && mtime == r->file_mtime_ns)
            continue;
        char then[64], now[64];
        files_time(then, sizeof then, r->file_mtime_ns);
        files_time(now, sizeof now, mtime);
        snprintf(err, cap, "%s: %s changed since the checkpoint (then %llu bytes, modified %s; now %llu bytes, "
                 "modified %s): the program's saved state would not match its code; put the original file "
                 "back to restart", image, path, (unsigned long long)r->file_size, then,
                 (unsigned long long)st.st_size, now);
        rc = -1;
    }
    free(buf);
    return rc;
}
