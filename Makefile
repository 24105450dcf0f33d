# Stasis — top-level build.  `make` leaves the commands in bin/ and the
# libraries in lib/ so everything runs from the source tree.
# Targets: all (default), test, demo, bench, install, clean.

PREFIX ?= /usr/local
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -fPIC $(CFLAGS)
VERSION := 0.1.0

COMMON_SRC := $(wildcard src/common/*.c)
ENGINE_SRC := $(wildcard src/engine/*.c) $(wildcard src/engine/plugins/*.c)
ENGINE_ASM := $(wildcard src/engine/*.S)

BUILD := build
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(ENGINE_ASM:%.S=$(BUILD)/%.o)

PROGRAMS := $(if $(wildcard src/launch/*.c),bin/dmtcp_launch) bin/dmtcp_restart \
    $(if $(wildcard src/command/*.c),bin/dmtcp_command) $(if $(wildcard src/coordinator/*.c),bin/dmtcp_coordinator)
LIBS := lib/libdmtcp.so lib/libdmtcp_delayresume.so
HELPER := lib/stasis/restart-helper

all: $(PROGRAMS) $(LIBS) $(HELPER)

$(BUILD)/%.o: %.c $(wildcard src/common/*.h) $(wildcard src/engine/*.h) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -DSTASIS_VERSION='"$(VERSION)"' -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -c $< -o $@

# libsodium (keyed BLAKE2b for the coordinator handshake, src/common/auth.c),
# linked statically into the engine and the commands, from Debian's libsodium-dev.
SODIUM := -Wl,-Bstatic -lsodium -Wl,-Bdynamic

# The engine: preloaded into the user's program.  Only dmtcp_* and the libc
# wrappers are exported; everything it links is private to it.
ENGINE_COMMON := $(BUILD)/src/common/proto.o $(BUILD)/src/common/auth.o $(BUILD)/src/common/secret.o
lib/libdmtcp.so: $(ENGINE_OBJ) $(ENGINE_COMMON) src/engine/exports.map
	@mkdir -p lib
	$(CC) -shared -o $@ $(ENGINE_OBJ) $(ENGINE_COMMON) -Wl,--version-script=src/engine/exports.map \
	    -Wl,--exclude-libs,ALL -Wl,-z,now -Wl,-Bstatic -lzstd -lsodium -Wl,-Bdynamic -ldl -lpthread

lib/libdmtcp_delayresume.so: $(wildcard plugins/delayresume/*.c) include/dmtcp.h include/delayresume.h
	@mkdir -p lib
	$(CC) $(BASE_CFLAGS) -fvisibility=hidden -shared -o $@ $(wildcard plugins/delayresume/*.c)

# libzstd, linked statically into the engine (private: --exclude-libs) and
# into the helper (decompression only), from Debian's libzstd-dev.
ZSTD_A := $(shell $(CC) -print-file-name=libzstd.a)

# The restart helper: static, libc-free, linked at a fixed address far from
# where Linux places programs, libraries and stacks (see docs/restart.md).
# The helper's last page: its brk floor, ending at IMAGE_HELPER_TEXT_END
# (src/common/image.h), so the kernel starts the program break above it.
HELPER_BRK_FLOOR := 0x6000003ff000
HELPER_CFLAGS := -std=gnu11 $(WARN) -Isrc -O2 -g -ffreestanding -fno-stack-protector -fno-builtin \
    -fpie -mno-red-zone -fno-asynchronous-unwind-tables -nostdlib -static -no-pie
$(HELPER): $(wildcard src/restart/*.c) $(wildcard src/restart/*.h) $(wildcard src/restart/*.S) src/common/image.h
	@mkdir -p $(dir $@)
	$(CC) $(HELPER_CFLAGS) -Wl,-Ttext-segment=0x600000000000 -Wl,-z,noexecstack -Wl,--build-id=none \
	    -Wl,--section-start=.stasis_brk_floor=$(HELPER_BRK_FLOOR) \
	    -o $@ $(wildcard src/restart/*.S) $(wildcard src/restart/*.c) $(ZSTD_A)
	@end=$$(nm $@ | awk '$$3 == "_end" {print $$1}'); \
	 if [ $$((0x$$end)) -gt $$(($(HELPER_BRK_FLOOR))) ]; then \
	     echo "restart helper ends at 0x$$end, past its brk floor page below IMAGE_HELPER_TEXT_END" >&2; \
	     rm -f $@; exit 1; fi

bin/dmtcp_launch: $(wildcard src/launch/*.c) $(COMMON_OBJ)
bin/dmtcp_restart: $(wildcard src/restart-cli/*.c) $(COMMON_OBJ)
bin/dmtcp_command: $(wildcard src/command/*.c) $(COMMON_OBJ)
bin/dmtcp_coordinator: $(wildcard src/coordinator/*.c) $(COMMON_OBJ)
$(PROGRAMS): $(wildcard src/common/*.h) $(wildcard include/*.h)
	@mkdir -p bin
	$(CC) $(BASE_CFLAGS) -DSTASIS_VERSION='"$(VERSION)"' -o $@ $(filter %.c,$^) $(COMMON_OBJ) $(SODIUM)

# ---- tests -------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
$(BUILD)/tests/unit/%: tests/unit/%.c $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -o $@ $< $(COMMON_OBJ) -lzstd $(SODIUM)

SCEN_SRC := $(wildcard tests/scenarios/*.c)
SCEN_BIN := $(SCEN_SRC:tests/scenarios/%.c=$(BUILD)/tests/scenarios/%)
$(BUILD)/tests/scenarios/%: tests/scenarios/%.c tests/scenarios/scenario.h include/dmtcp.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -O1 -g -o $@ $< -lpthread -ldl -lm

tests: $(UNIT_BIN) $(SCEN_BIN)

test: all tests
	@tests/run-all.sh

test-scenarios: all tests
	@tests/scenarios/run.sh

demo: all
	@examples/delayresume/demo.sh

demo-threads: all
	@examples/demo.sh

bench: all
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/stasis $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(LIBS) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(HELPER) $(DESTDIR)$(PREFIX)/lib/stasis/
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(BUILD) bin lib

.PHONY: all test test-scenarios tests demo demo-threads bench install clean
