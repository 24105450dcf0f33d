/*
 * report.c — the restart helper's side of the coordinator's restart.
 *
 * dmtcp_restart registered this image with the coordinator on a connection
 * of its own and handed it over (restart_info.coord_fd).  If the image
 * cannot be restored, the helper sends its message on it as
 * MSG_RESTART_FAILED before exiting, and the coordinator ends the whole
 * restart.  Between regions the helper looks whether the coordinator has
 * ended the restart already (another image failed) and then stops loading.
 * The connection is otherwise left alone: the restored process takes it
 * over.  Libc-free and async-signal-safe, like the rest of the helper; it
 * takes from common/proto.h only the plain structs of that one message.
 */
#include <stdint.h>
#include <string.h>

#include "common/proto.h"
#include "restart/arch-x86_64.h"
#include "restart/load.h"
#include "restart/report.h"

#define REPORT_PREFIX "dmtcp_restart: "
#define REPORT_FAILED_STATUS 4 /* as dmtcp_restart's: the restart could not complete */

static struct {
    int fd;
    const char *image;
    char cur[sizeof(((struct msg_restart_failed *)0)->reason)];
    unsigned long n;
    char last[sizeof(((struct msg_restart_failed *)0)->reason)];
} report = {.fd = -1};

void report_init(int coord_fd, const char *image)
{
    report.fd = coord_fd;
    report.image = image;
}

int report_fd(void)
{
    return report.fd;
}

void report_forget(void)
{
    if (report.fd >= 0)
        rs_close(report.fd);
    report.fd = -1;
}

void report_note(const char *s, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        if (s[i] != '\n') {
            if (report.n + 1 < sizeof report.cur)
                report.cur[report.n++] = s[i];
            continue;
        }
        report.cur[report.n] = 0;
        memcpy(report.last, report.cur, report.n + 1);
        report.n = 0;
    }
}

static int report_write_all(const void *buf, unsigned long len)
{
    const char *p = buf;
    while (len) {
        long w = rs_send(report.fd, p, len, RS_MSG_NOSIGNAL); /* no SIGPIPE if the coordinator left */
        if (w == -4 /* EINTR */)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (unsigned long)w;
    }
    return 0;
}

void report_exit(int code)
{
    if (report.fd >= 0) {
        static struct {
            struct proto_hdr h;
            struct msg_restart_failed f;
        } m;
        memset(&m, 0, sizeof m);
        m.h.magic = PROTO_MAGIC;
        m.h.version = PROTO_VERSION;
        m.h.type = MSG_RESTART_FAILED;
        m.h.len = sizeof m.f;
        const char *r = report.last;
        const char *pre = REPORT_PREFIX;
        unsigned long k = 0;
        while (pre[k] && r[k] == pre[k])
            k++;
        if (!pre[k])
            r += k;
        for (unsigned long i = 0; r[i] && i + 1 < sizeof m.f.reason; i++)
            m.f.reason[i] = r[i];
        report_write_all(&m, sizeof m);
    }
    rs_exit(code);
}

static int report_read_all(void *buf, unsigned long len)
{
    char *p = buf;
    while (len) {
        long n = rs_read(report.fd, p, len);
        if (n == -4 /* EINTR */)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (unsigned long)n;
    }
    return 0;
}

void report_check(void)
{
    if (report.fd < 0)
        return;
    struct rs_pollfd p = {.fd = report.fd, .events = RS_POLLIN, .revents = 0};
    if (rs_poll(&p, 1, 0) <= 0)
        return;
    static struct proto_hdr h;
    static struct msg_restart_failed f;
    if (report_read_all(&h, sizeof h) < 0) { /* the coordinator is gone: the process will see */
        report_forget();
        return;
    }
    if (h.magic != PROTO_MAGIC || h.type != MSG_RESTART_FAILED || h.len != sizeof f ||
        report_read_all(&f, sizeof f) < 0) {
        report_forget();
        return;
    }
    f.reason[sizeof f.reason - 1] = 0;
    hs_say(REPORT_PREFIX "the restart failed: ");
    hs_say(f.reason);
    if (report.image) {
        hs_say("; ");
        hs_say(report.image);
        hs_say(" is not restored");
    }
    hs_say("\n");
    rs_exit(REPORT_FAILED_STATUS);
}
