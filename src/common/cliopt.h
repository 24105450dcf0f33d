/*
 * cliopt.h — the small option matcher shared by the dmtcp_* programs.
 *
 * DMTCP's command lines mix short options, multi-letter single-dash options
 * (-bc, -kc) and long options with "--opt value" or "--opt=value", which
 * getopt_long cannot express; this matches one argument at a time instead.
 */
#ifndef STASIS_CLIOPT_H
#define STASIS_CLIOPT_H

enum cliopt_match {
    CLIOPT_NO = 0,       /* argv[*i] is not this option */
    CLIOPT_YES = 1,      /* matched; *i advanced past it (and its value) */
    CLIOPT_MISSING = -1, /* matched, but its value is missing */
    CLIOPT_EXTRA = -2,   /* a flag that was given "=value" */
};

/* Match argv[*i] against short (e.g. "-p", may be NULL) or long (e.g.
 * "--coord-port", may be NULL).  When val is non-NULL the option takes a
 * value: "-p 7779", "-p7779" (two-character short names only),
 * "--coord-port 7779" or "--coord-port=7779". */
int cliopt_match(int argc, char **argv, int *i, const char *shortname,
                 const char *longname, const char **val);

/* Parse a non-negative decimal int; 0 or -1. */
int cliopt_uint(const char *s, int *out);

#endif
