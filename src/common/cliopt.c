/*
 * cliopt.c — one-argument-at-a-time option matching for the dmtcp_*
 * programs (see cliopt.h).
 */
#include "common/cliopt.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int cliopt_take_value(int argc, char **argv, int *i, const char *attached,
                             const char **val)
{
    if (attached) {
        *val = attached;
        (*i)++;
        return CLIOPT_YES;
    }
    if (*i + 1 >= argc)
        return CLIOPT_MISSING;
    *val = argv[*i + 1];
    *i += 2;
    return CLIOPT_YES;
}

static int cliopt_match_long(int argc, char **argv, int *i, const char *longname,
                             const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(longname);
    if (strncmp(a, longname, n) != 0)
        return CLIOPT_NO;
    if (a[n] == 0) {
        if (!val) {
            (*i)++;
            return CLIOPT_YES;
        }
        return cliopt_take_value(argc, argv, i, NULL, val);
    }
    if (a[n] != '=')
        return CLIOPT_NO;
    if (!val)
        return CLIOPT_EXTRA;
    return cliopt_take_value(argc, argv, i, a + n + 1, val);
}

static int cliopt_match_short(int argc, char **argv, int *i, const char *shortname,
                              const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(shortname);
    if (strcmp(a, shortname) == 0) {
        if (!val) {
            (*i)++;
            return CLIOPT_YES;
        }
        return cliopt_take_value(argc, argv, i, NULL, val);
    }
    if (val && n == 2 && strncmp(a, shortname, 2) == 0 && a[2])
        return cliopt_take_value(argc, argv, i, a + 2, val);
    return CLIOPT_NO;
}

int cliopt_match(int argc, char **argv, int *i, const char *shortname,
                 const char *longname, const char **val)
{
    int r = CLIOPT_NO;
    if (longname)
        r = cliopt_match_long(argc, argv, i, longname, val);
    if (r == CLIOPT_NO && shortname)
        r = cliopt_match_short(argc, argv, i, shortname, val);
    return r;
}

int cliopt_uint(const char *s, int *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}
