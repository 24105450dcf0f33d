/*
 * sections.c — private bytes a plugin keeps in the image.
 *
 * At PRECHECKPOINT a plugin may call dmtcp_plugin_save(key, data, len); the
 * bytes go into the image's sections area (docs/image-format.md), each with
 * its own XXH64.  At RESTART dmtcp_plugin_load(key, buf, cap) reads them
 * back from the image the process was restarted from.  The buffers are the
 * engine's own (memory.c), never part of the saved memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"
#include "engine/memory.h"

static struct {
    struct memory_buf out; /* sections being collected for the next image */
    struct memory_buf in;  /* sections of the image we restarted from */
    int collecting;        /* between PRECHECKPOINT and the image write */
} sections_state;

void sections_begin(void)
{
    sections_state.out.len = 0;
    sections_state.collecting = 1;
}

const void *sections_data(size_t *len)
{
    sections_state.collecting = 0;
    *len = sections_state.out.len;
    return sections_state.out.data;
}

void sections_end(void)
{
    sections_state.collecting = 0;
    memory_buf_free(&sections_state.out);
    memory_buf_free(&sections_state.in);
}

ENGINE_API int dmtcp_plugin_save(const char *key, const void *data, size_t len)
{
    if (!sections_state.collecting) {
        engine_warn("dmtcp_plugin_save(\"%s\") outside DMTCP_EVENT_PRECHECKPOINT; nothing saved", key);
        return DMTCP_ERROR;
    }
    struct image_section s;
    memset(&s, 0, sizeof s);
    if (!key || strlen(key) >= sizeof s.name) {
        engine_warn("dmtcp_plugin_save: key must be 1 to %zu characters", sizeof s.name - 1);
        return DMTCP_ERROR;
    }
    strcpy(s.name, key);
    s.size = len;
    s.checksum = XXH64(data, len, 0);
    if (memory_buf_append(&sections_state.out, &s, sizeof s) < 0 ||
        memory_buf_append(&sections_state.out, data, len) < 0) {
        engine_warn("dmtcp_plugin_save(\"%s\"): out of memory", key);
        return DMTCP_ERROR;
    }
    return 0;
}

/* Read the sections area of the image we were restarted from (validated
 * as a whole by dmtcp_restart; each section is checked again here). */
void sections_load(const struct restart_info *ri)
{
    sections_state.in.len = 0;
    int fd = open(ri->image_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return; /* dmtcp_plugin_load will report "nothing saved" */
    /* only from the file dmtcp_restart checked and restored, never from
     * another put under its name since */
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_dev != ri->image_dev || st.st_ino != ri->image_ino) {
        engine_warn("%s is no longer the image this process was restarted from (it was replaced during the "
                    "restart): the plugins' saved state is not loaded", ri->image_path);
        close(fd);
        return;
    }
    struct image_header h;
    if (pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h && h.sections_size &&
        memory_buf_reserve(&sections_state.in, h.sections_size) == 0 &&
        pread(fd, sections_state.in.data, h.sections_size, (off_t)h.sections_offset) == (ssize_t)h.sections_size)
        sections_state.in.len = h.sections_size;
    close(fd);
}

ENGINE_API long dmtcp_plugin_load(const char *key, void *buf, size_t cap)
{
    const uint8_t *p = sections_state.in.data, *end = p + sections_state.in.len;
    while (p && p + sizeof(struct image_section) <= end) {
        struct image_section s;
        memcpy(&s, p, sizeof s);
        const uint8_t *data = p + sizeof s;
        if (s.size > (uint64_t)(end - data))
            break;
        if (!strncmp(s.name, key, sizeof s.name)) {
            if (XXH64(data, s.size, 0) != s.checksum) {
                engine_warn("dmtcp_plugin_load(\"%s\"): checksum mismatch", key);
                return DMTCP_ERROR;
            }
            if (s.size > cap) {
                engine_warn("dmtcp_plugin_load(\"%s\"): %llu bytes saved, buffer holds %zu", key,
                            (unsigned long long)s.size, cap);
                return DMTCP_ERROR;
            }
            memcpy(buf, data, s.size);
            return (long)s.size;
        }
        p = data + s.size;
    }
    return DMTCP_ERROR;
}
