#!/usr/bin/env bash
# version-rule.sh — descriptors the engine cannot honour are refused by
# name, and the program runs without them: a native descriptor of a newer
# api_version, a DMTCP-style one of another pluginApiVersion.  A native
# descriptor that leaves api_version out (0: written before the field
# existed) and one of the current version are loaded.
. "$(dirname "$0")/lib/common.sh"
need_bins
need_cc
# plugin NAME DESCRIPTOR-INITIALISER: a plugin that says "[NAME] INIT" (its
# descriptor descr_NAME: DMTCP's are global symbols, which must differ)
plugin() {
    cat >"$TMP/$1.c" <<C
#include <string.h>
#include <unistd.h>
#include "dmtcp.h"
static void ev_native(dmtcp_event_t ev, dmtcp_event_data_t *d)
{
    (void)d;
    if (ev == DMTCP_EVENT_INIT && write(2, "[$1] INIT\n", strlen("[$1] INIT\n")) < 0)
        return;
}
static void ev_dmtcp(DmtcpEvent_t ev, DmtcpEventData_t *d)
{
    ev_native(ev, (dmtcp_event_data_t *)(void *)d);
}
${2// descr / descr_$1 }
DMTCP_DECL_PLUGIN(descr_$1)
C
    compile "$TMP/lib$1.so" -shared -fPIC -Wall -Werror -Wno-unused-function -I"$ROOT/include" "$TMP/$1.c"
}
plugin newer 'static dmtcp_plugin_descriptor_t descr = {.api_version = DMTCP_NATIVE_PLUGIN_API_VERSION + 1, .name = "newer", .event_hook = ev_native};'
plugin current 'static dmtcp_plugin_descriptor_t descr = {.api_version = DMTCP_NATIVE_PLUGIN_API_VERSION, .name = "current", .event_hook = ev_native};'
plugin unversioned 'static dmtcp_plugin_descriptor_t descr = {.name = "unversioned", .event_hook = ev_native};'
plugin dmtcp2 'DmtcpPluginDescriptor_t descr = {"2", "2.6.0", "dmtcp2", "a", "a@b", "DMTCP 2 era", ev_dmtcp};'
plugin dmtcp3 'DmtcpPluginDescriptor_t descr = {DMTCP_PLUGIN_API_VERSION, DMTCP_PACKAGE_VERSION, "dmtcp3", "a", "a@b", "DMTCP 3 era", ev_dmtcp};'
cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
int main(void) { puts("program ran"); return 0; }
C
compile "$TMP/prog" -O1 "$TMP/prog.c"
start_coord || { fail version-coordinator "the coordinator did not start"; exit 0; }
libs=$TMP/libnewer.so:$TMP/libcurrent.so:$TMP/libunversioned.so:$TMP/libdmtcp2.so:$TMP/libdmtcp3.so
if ! timeout "$WAIT" "$BIN/dmtcp_launch" -p "$PORT" -j --with-plugin "$libs" ./prog >"$TMP/out" 2>"$TMP/err" ||
    ! grep -qx 'program ran' "$TMP/out"; then
    fail version-program-runs "the program did not run to its end: $(tail -c 300 "$TMP/err")"
    exit 0
fi
pass version-program-runs
loaded=$(grep -o '^\[[a-z0-9]*\] INIT' "$TMP/err" | sort | xargs)
if [ "$loaded" = "[current] INIT [dmtcp3] INIT [unversioned] INIT" ]; then pass version-loaded
else fail version-loaded "INIT reached: '$loaded', want current, dmtcp3 and unversioned"; fi
if grep -q "plugin 'newer' was written for the native plugin API version 2, newer than this engine's (1): the plugin is not loaded" "$TMP/err"; then
    pass version-native-newer-refused
else
    fail version-native-newer-refused "no warning naming 'newer': $(tail -c 300 "$TMP/err")"
fi
if grep -q "plugin 'dmtcp2' was written for DMTCP's plugin API version 2; this engine takes version 3" "$TMP/err"; then
    pass version-dmtcp-other-refused
else
    fail version-dmtcp-other-refused "no warning naming 'dmtcp2': $(tail -c 300 "$TMP/err")"
fi
exit 0
