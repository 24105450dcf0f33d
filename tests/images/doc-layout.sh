#!/bin/bash
# docs/image-format.md gives the same layout as src/common/image.h: every
# "offset | size | type | field" table (under a line naming **`struct X`**
# (N bytes)) must match struct X field by field — offset, size and type —
# cover it from byte 0 to its size with no gap, and list every on-disk
# struct; every "name | value" table must give each constant's value.
# The tables are turned into a C program compiled against image.h, so an
# independent reader written from the page would read what the engine
# writes.  One line per struct and one per table of constants (named by
# its first).
. "$(dirname "$0")/lib/common.sh"
need_cc
if [ ! -x /usr/bin/python3 ]; then
    skip doc-layout "no /usr/bin/python3"
    exit 0
fi

DOC=$ROOT/docs/image-format.md
# the structs written to disk, each must have its table
ON_DISK="image_header image_region image_payload_head image_extent image_block image_section image_trailer"

/usr/bin/python3 - "$DOC" "$ON_DISK" >"$TMP/layout.c" <<'EOF' || { fail doc-layout "cannot read $DOC"; exit 0; }
import re, sys
doc, on_disk = sys.argv[1], sys.argv[2].split()
ctype = {"u8": "uint8_t", "u32": "uint32_t", "u64": "uint64_t", "i32": "int32_t", "i64": "int64_t"}

def cells(line):
    # split a table row on the | that are not escaped (\|)
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [p.strip().replace("\\|", "|") for p in parts]

def c_type(t):
    m = re.fullmatch(r"(char|u8|u32|u64|i32|i64)(?:\[(\d+)\])?", t)
    if not m:
        return None
    base = "char" if m.group(1) == "char" else ctype[m.group(1)]
    return base + (f"[{m.group(2)}]" if m.group(2) else "")

out = ["#include <stddef.h>", "#include <stdio.h>", "#include <string.h>", '#include "common/image.h"',
       "static int bad;", "#define BAD(...) (printf(__VA_ARGS__), bad = 1)", "int main(void) {"]
structs, last_struct, lines = {}, None, open(doc).read().split("\n")
i = 0
while i < len(lines):
    line = lines[i]
    m = re.search(r"\*\*`struct (\w+)`\*\* \((\d+) bytes", line)
    if m:
        last_struct = (m.group(1), int(m.group(2)))
    if line.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|[-:| ]+\|", lines[i + 1].strip()):
        head = [c.lower() for c in cells(line)]
        rows = []
        i += 2
        while i < len(lines) and lines[i].startswith("|"):
            rows.append(cells(lines[i]))
            i += 1
        if head[:4] == ["offset", "size", "type", "field"]:
            name, size = last_struct
            structs[name] = size
            out.append(f'    printf("struct {name}\\n");')
            out.append(f'    if (sizeof(struct {name}) != {size}) BAD("  doc: {size} bytes; image.h: %zu\\n", sizeof(struct {name}));')
            at = 0
            for r in rows:
                off, sz, t, f = int(r[0]), int(r[1]), r[2], r[3].strip("`")
                if off != at:
                    out.append(f'    BAD("  doc: {f} at {off}, after a field ending at {at}\\n");')
                at = off + sz
                ct = c_type(t)
                if ct is None:
                    out.append(f'    BAD("  doc: {f}: unknown type {t}\\n");')
                    continue
                out.append(f'    if (offsetof(struct {name}, {f}) != {off}) BAD("  {f}: doc offset {off}, image.h %zu\\n", offsetof(struct {name}, {f}));')
                out.append(f'    if (sizeof(((struct {name} *)0)->{f}) != {sz}) BAD("  {f}: doc {sz} bytes, image.h %zu\\n", sizeof(((struct {name} *)0)->{f}));')
                out.append(f'    if (!__builtin_types_compatible_p(__typeof__(((struct {name} *)0)->{f}), {ct})) BAD("  {f}: doc type {t}, not so in image.h\\n");')
            if at != size:
                out.append(f'    BAD("  doc: the fields end at {at}, the struct at {size}\\n");')
        elif head[:2] == ["name", "value"]:
            out.append(f'    printf("constants-{rows[0][0].strip("`")}\\n");')
            for r in rows:
                n, v = r[0].strip("`"), r[1].strip("`")
                if v.startswith('"'):
                    out.append(f'    if (sizeof({n}) != sizeof({v}) || memcmp({n}, {v}, sizeof({n}))) BAD("  {n}: not {v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))} in image.h\\n");')
                else:
                    out.append(f'    if ({n} != {v}) BAD("  {n}: doc {v}, image.h %llu\\n", (unsigned long long)({n}));')
        continue
    i += 1
for name in on_disk:
    if name not in structs:
        out.append(f'    printf("struct {name}\\n"); BAD("  docs/image-format.md has no table for it\\n");')
out += ["    return 0;", "}"]
print("\n".join(out))
EOF

# a field the page names that image.h lacks stops the build: say which
if ! "${CC:-cc}" -o "$TMP/layout" -I "$ROOT/src" "$TMP/layout.c" 2>"$TMP/layout.log"; then
    fail doc-layout "the page and image.h disagree: $(grep -o 'error: .*' "$TMP/layout.log" | sort -u | head -n 5 | tr '\n' ' ')"
    exit 0
fi
"$TMP/layout" >"$TMP/layout.out" || { fail doc-layout "the check program failed"; exit 0; }
# one result line per "struct X" / "constants" group of the output
awk '
    function report() {
        if (group == "") return
        if (why == "") print "PASS doc-layout-" group
        else print "FAIL doc-layout-" group ":" why
    }
    /^[a-z]/ { report(); group = $0; sub(/^struct /, "", group); why = ""; next }
    { sub(/^ */, " "); why = why (why == "" ? "" : ";") $0 }
    END { report() }' "$TMP/layout.out"
grep -q . "$TMP/layout.out" || fail doc-layout "no layout table found in $DOC"
exit 0
