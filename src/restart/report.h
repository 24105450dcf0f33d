/*
 * report.h — the restart helper and the coordinator's restart (report.c).
 */
#ifndef STASIS_RESTART_REPORT_H
#define STASIS_RESTART_REPORT_H

/* The restart's connection to the coordinator (restart_info.coord_fd; -1 =
 * none) and the image being restored. */
void report_init(int coord_fd, const char *image);
/* Every message the helper writes goes through here too: the last whole
 * line is what report_exit sends. */
void report_note(const char *s, unsigned long n);
/* The image cannot be restored: tell the coordinator the last message
 * line (without "dmtcp_restart: ") and exit with code. */
__attribute__((noreturn)) void report_exit(int code);
/* If the coordinator has failed the restart meanwhile, say so and exit 4. */
void report_check(void);
/* The connection for the restored process, or -1 if it was lost. */
int report_fd(void);
/* A process that is not the restored one (the lazy restart's server)
 * closes its copy of the connection. */
void report_forget(void);

#endif
