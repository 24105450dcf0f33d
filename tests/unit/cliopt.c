/*
 * cliopt.c — unit tests for the option matcher (src/common/cliopt.c) and the
 * coordinator address helpers the programs build on it
 * (coordclient_parse_port, coordclient_addr_init).
 */
#include "common/cliopt.h"
#include "common/coordclient.h"
#include "unit.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Matches argv[at] of a NULL-free argv; checks result, new index and value. */
static void expect(int argc, char **argv, int at, const char *s, const char *l, int takes_value, int want,
                   int want_i, const char *want_val)
{
    int i = at;
    const char *val = "(unset)";
    int r = cliopt_match(argc, argv, &i, s, l, takes_value ? &val : NULL);
    CHECKF(r == want, "'%s' vs %s/%s: result %d, want %d", argv[at], s ? s : "-", l ? l : "-", r, want);
    CHECKF(i == want_i, "'%s' vs %s/%s: index %d, want %d", argv[at], s ? s : "-", l ? l : "-", i, want_i);
    if (want_val)
        CHECKF(strcmp(val, want_val) == 0, "'%s' vs %s/%s: value '%s', want '%s'", argv[at], s ? s : "-",
               l ? l : "-", val, want_val);
}

static void test_long_value(void)
{
    char *a[] = { "prog", "--coord-port", "7779", "--coord-port=8000", "--coord-port=", "--coord-port==1", "x" };
    expect(ARGC(a), a, 1, "-p", "--coord-port", 1, CLIOPT_YES, 3, "7779");
    expect(ARGC(a), a, 3, "-p", "--coord-port", 1, CLIOPT_YES, 4, "8000");
    expect(ARGC(a), a, 4, "-p", "--coord-port", 1, CLIOPT_YES, 5, "");
    expect(ARGC(a), a, 5, "-p", "--coord-port", 1, CLIOPT_YES, 6, "=1");
    expect(ARGC(a), a, 1, NULL, "--coord-port", 1, CLIOPT_YES, 3, "7779");
    /* a value that looks like an option is still the value */
    char *b[] = { "prog", "--ckptdir", "--quiet" };
    expect(ARGC(b), b, 1, NULL, "--ckptdir", 1, CLIOPT_YES, 3, "--quiet");
}

static void test_short_value(void)
{
    char *a[] = { "prog", "-p", "7779", "-p8000", "-i", "-5", "-p=9" };
    expect(ARGC(a), a, 1, "-p", "--coord-port", 1, CLIOPT_YES, 3, "7779");
    expect(ARGC(a), a, 3, "-p", "--coord-port", 1, CLIOPT_YES, 4, "8000");
    expect(ARGC(a), a, 4, "-i", "--interval", 1, CLIOPT_YES, 6, "-5");
    expect(ARGC(a), a, 1, "-p", NULL, 1, CLIOPT_YES, 3, "7779");
    /* attached values only for two-character names */
    char *b[] = { "prog", "-bcx", "-bc", "val" };
    expect(ARGC(b), b, 1, "-bc", NULL, 1, CLIOPT_NO, 1, NULL);
    expect(ARGC(b), b, 2, "-bc", NULL, 1, CLIOPT_YES, 4, "val");
}

static void test_no_match(void)
{
    char *a[] = { "prog", "--coord-portx", "--coord", "--coord-port-file", "-P", "-x", "-", "", "--", "7779",
                  "---coord-port" };
    for (int k = 1; k < ARGC(a); k++) {
        expect(ARGC(a), a, k, "-p", "--coord-port", 1, CLIOPT_NO, k, NULL);
        expect(ARGC(a), a, k, "-p", "--coord-port", 0, CLIOPT_NO, k, NULL);
    }
    /* a flag's short name is not a prefix match */
    char *b[] = { "prog", "-bc", "-qq", "-q1" };
    expect(ARGC(b), b, 1, "-b", NULL, 0, CLIOPT_NO, 1, NULL);
    expect(ARGC(b), b, 2, "-q", "--quiet", 0, CLIOPT_NO, 2, NULL);
    expect(ARGC(b), b, 3, "-q", "--quiet", 0, CLIOPT_NO, 3, NULL);
    /* the long name is matched first, whole */
    char *c[] = { "prog", "--port-file", "f" };
    expect(ARGC(c), c, 1, NULL, "--port", 1, CLIOPT_NO, 1, NULL);
    expect(ARGC(c), c, 1, NULL, "--port-file", 1, CLIOPT_YES, 3, "f");
}

static void test_missing_value(void)
{
    char *a[] = { "prog", "x", "--coord-port" };
    expect(ARGC(a), a, 2, "-p", "--coord-port", 1, CLIOPT_MISSING, 2, NULL);
    char *b[] = { "prog", "-p" };
    expect(ARGC(b), b, 1, "-p", "--coord-port", 1, CLIOPT_MISSING, 1, NULL);
    char *c[] = { "prog", "-bc" };
    expect(ARGC(c), c, 1, "-bc", NULL, 1, CLIOPT_MISSING, 1, NULL);
}

static void test_flags(void)
{
    char *a[] = { "prog", "--quiet", "-q", "--quiet=1", "--quiet=", "-bc", "--json" };
    expect(ARGC(a), a, 1, "-q", "--quiet", 0, CLIOPT_YES, 2, NULL);
    expect(ARGC(a), a, 2, "-q", "--quiet", 0, CLIOPT_YES, 3, NULL);
    expect(ARGC(a), a, 3, "-q", "--quiet", 0, CLIOPT_EXTRA, 3, NULL);
    expect(ARGC(a), a, 4, "-q", "--quiet", 0, CLIOPT_EXTRA, 4, NULL);
    expect(ARGC(a), a, 5, "-bc", "--bcheckpoint", 0, CLIOPT_YES, 6, NULL);
    expect(ARGC(a), a, 6, NULL, "--json", 0, CLIOPT_YES, 7, NULL);
    /* a flag does not take the next argument */
    char *b[] = { "prog", "--quiet", "7779" };
    expect(ARGC(b), b, 1, "-q", "--quiet", 0, CLIOPT_YES, 2, NULL);
}

static void test_uint(void)
{
    const struct {
        const char *s;
        int ok, v;
    } t[] = {
        { "0", 1, 0 },       { "42", 1, 42 }, { "2147483647", 1, 2147483647 }, { "2147483648", 0, 0 },
        { "-1", 0, 0 },      { "", 0, 0 },    { "12a", 0, 0 },                 { "a", 0, 0 },
        { "1.5", 0, 0 },     { "0x10", 0, 0 }, { "99999999999999999999", 0, 0 },
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        int v = -777;
        int r = cliopt_uint(t[k].s, &v);
        CHECKF(t[k].ok ? (r == 0 && v == t[k].v) : (r == -1 && v == -777), "cliopt_uint(\"%s\") = %d, value %d",
               t[k].s, r, v);
    }
    int v = -777;
    CHECK(cliopt_uint(NULL, &v) == -1 && v == -777);
}

static void test_parse_port(void)
{
    const struct {
        const char *s;
        int ok, v;
    } t[] = {
        { "0", 1, 0 },    { "1", 1, 1 },       { "7779", 1, 7779 }, { "65535", 1, 65535 },
        { "65536", 0, 0 }, { "-1", 0, 0 },      { "12a", 0, 0 },     { "", 0, 0 },
        { "a12", 0, 0 },  { "4294967297", 0, 0 }, { "99999999999999999999", 0, 0 }, { "7779 ", 0, 0 },
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        int p = -777;
        int r = coordclient_parse_port(t[k].s, &p);
        CHECKF(t[k].ok ? (r == 0 && p == t[k].v) : (r == -1 && p == -777),
               "coordclient_parse_port(\"%s\") = %d, port %d", t[k].s, r, p);
    }
    int p = -777;
    CHECK(coordclient_parse_port(NULL, &p) == -1 && p == -777);
}

static int addr(struct coordclient_addr *a, const char *host, const char *port, char *err, size_t cap)
{
    memset(a, 0x5a, sizeof *a);
    err[0] = 0;
    return coordclient_addr_init(a, host, port, err, cap);
}

static void test_addr_defaults_and_env(void)
{
    struct coordclient_addr a;
    char err[512];
    unsetenv("DMTCP_COORD_HOST");
    unsetenv("DMTCP_COORD_PORT");
    CHECK(addr(&a, NULL, NULL, err, sizeof err) == CC_OK);
    CHECKF(strcmp(a.host, COORDCLIENT_DEFAULT_HOST) == 0 && a.port == PROTO_DEFAULT_PORT, "defaults: %s:%d",
           a.host, a.port);

    setenv("DMTCP_COORD_HOST", "node7.example", 1);
    setenv("DMTCP_COORD_PORT", "8123", 1);
    CHECK(addr(&a, NULL, NULL, err, sizeof err) == CC_OK);
    CHECKF(strcmp(a.host, "node7.example") == 0 && a.port == 8123, "from env: %s:%d", a.host, a.port);

    /* options win over the environment */
    CHECK(addr(&a, "10.0.0.1", "9000", err, sizeof err) == CC_OK);
    CHECKF(strcmp(a.host, "10.0.0.1") == 0 && a.port == 9000, "options over env: %s:%d", a.host, a.port);
    CHECK(addr(&a, NULL, "0", err, sizeof err) == CC_OK && a.port == 0 && strcmp(a.host, "node7.example") == 0);

    /* empty variables count as unset */
    setenv("DMTCP_COORD_HOST", "", 1);
    setenv("DMTCP_COORD_PORT", "", 1);
    CHECK(addr(&a, NULL, NULL, err, sizeof err) == CC_OK);
    CHECKF(strcmp(a.host, COORDCLIENT_DEFAULT_HOST) == 0 && a.port == PROTO_DEFAULT_PORT, "empty env: %s:%d",
           a.host, a.port);
    unsetenv("DMTCP_COORD_HOST");
    unsetenv("DMTCP_COORD_PORT");
}

static void test_addr_bad_port(void)
{
    struct coordclient_addr a;
    char err[512];
    unsetenv("DMTCP_COORD_HOST");
    const char *bad[] = { "65536", "-1", "12a", "http" };
    for (size_t k = 0; k < 4; k++) {
        setenv("DMTCP_COORD_PORT", bad[k], 1);
        int r = addr(&a, NULL, NULL, err, sizeof err);
        CHECKF(r == CC_USAGE && strstr(err, "DMTCP_COORD_PORT") && strstr(err, bad[k]),
               "DMTCP_COORD_PORT=%s: result %d, '%s'", bad[k], r, err);
        unsetenv("DMTCP_COORD_PORT");
        r = addr(&a, NULL, bad[k], err, sizeof err);
        CHECKF(r == CC_USAGE && strstr(err, "--coord-port") && strstr(err, bad[k]), "-p %s: result %d, '%s'",
               bad[k], r, err);
    }
    /* a bad option is refused even when the environment holds a good port */
    setenv("DMTCP_COORD_PORT", "8123", 1);
    CHECK(addr(&a, NULL, "70000", err, sizeof err) == CC_USAGE);
    unsetenv("DMTCP_COORD_PORT");

    /* host names that do not fit */
    char longhost[400];
    memset(longhost, 'h', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = 0;
    CHECK(addr(&a, longhost, NULL, err, sizeof err) == CC_USAGE && strcasestr(err, "too long"));
    longhost[sizeof a.host - 1] = 0;
    CHECK(addr(&a, longhost, NULL, err, sizeof err) == CC_OK && strcmp(a.host, longhost) == 0);
}

/* "-p ''" or "--coord-port=" is an explicit port that is not a number: it
 * must be refused like "-p 12a", not silently replaced by 7779 (which also
 * ignores DMTCP_COORD_PORT). */
static void test_addr_empty_port_option(void)
{
    struct coordclient_addr a;
    char err[512];
    setenv("DMTCP_COORD_PORT", "8123", 1);
    int r = addr(&a, NULL, "", err, sizeof err);
    CHECKF(r == CC_USAGE, "coordclient_addr_init(port_opt \"\") with DMTCP_COORD_PORT=8123: result %d, port %d; "
                          "want CC_USAGE", r, a.port);
    unsetenv("DMTCP_COORD_PORT");
    r = addr(&a, NULL, "", err, sizeof err);
    CHECKF(r == CC_USAGE, "coordclient_addr_init(port_opt \"\"): result %d, port %d; want CC_USAGE", r, a.port);
}

int main(void)
{
    unit_run("cliopt/long-value", test_long_value);
    unit_run("cliopt/short-value", test_short_value);
    unit_run("cliopt/no-match", test_no_match);
    unit_run("cliopt/missing-value", test_missing_value);
    unit_run("cliopt/flags", test_flags);
    unit_run("cliopt/uint", test_uint);
    unit_run("coordclient/parse-port", test_parse_port);
    unit_run("coordclient/addr-defaults-and-env", test_addr_defaults_and_env);
    unit_run("coordclient/addr-bad-port", test_addr_bad_port);
    unit_run("coordclient/addr-empty-port-option", test_addr_empty_port_option);
    return unit_exit();
}
