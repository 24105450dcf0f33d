# Stasis — top-level build.  `make` leaves the commands in bin/ and the
# libraries in lib/ so everything runs from the source tree.
# Targets: all (default), test, demo, bench, install, clean.

PREFIX ?= /usr/local
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -fPIC $(CFLAGS)
VERSION := 0.1.0
# Every compile also writes a .d file (beside its object, or $@.d) naming
# the headers it read; they are included at the end, so changing a header
# rebuilds exactly what includes it.  -MP: a deleted header is no error.
# Each output also depends on its .d file: one that is missing (a build
# from before, or deleted) gets its output rebuilt, which writes it.
DEPFLAGS := -MMD -MP

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

$(BUILD)/%.o: %.c $(BUILD)/%.d
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(DEPFLAGS) -DSTASIS_VERSION='"$(VERSION)"' -c $< -o $@

$(BUILD)/%.o: %.S $(BUILD)/%.d
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The engine: preloaded into the user's program.  Only dmtcp_* and the libc
# wrappers are exported; everything it links is private to it.
ENGINE_COMMON := $(BUILD)/src/common/proto.o
lib/libdmtcp.so: $(ENGINE_OBJ) $(ENGINE_COMMON) src/engine/exports.map
	@mkdir -p lib
	$(CC) -shared -o $@ $(ENGINE_OBJ) $(ENGINE_COMMON) -Wl,--version-script=src/engine/exports.map \
	    -Wl,--exclude-libs,ALL -Wl,-z,now -Wl,-Bstatic -lzstd -Wl,-Bdynamic -ldl -lpthread

lib/libdmtcp_delayresume.so: $(wildcard plugins/delayresume/*.c) $(BUILD)/lib/libdmtcp_delayresume.so.d
	@mkdir -p lib $(BUILD)/lib
	$(CC) $(BASE_CFLAGS) $(DEPFLAGS) -MF $(BUILD)/$@.d -fvisibility=hidden -shared -o $@ $(filter %.c,$^)

# libzstd, linked statically into the engine (private: --exclude-libs) and
# into the helper (decompression only), from Debian's libzstd-dev.
ZSTD_A := $(shell $(CC) -print-file-name=libzstd.a)

# The restart helper: static, libc-free, linked at a fixed address far from
# where Linux places programs, libraries and stacks (docs/image-format.md,
# "The restart helper's address zones"; IMAGE_HELPER_* in src/common/image.h).  Its objects live in
# $(BUILD)/helper, apart from the engine's and the programs'.
# The helper's last page: its brk floor, ending at IMAGE_HELPER_TEXT_END
# (src/common/image.h), so the kernel starts the program break above it.
HELPER_BRK_FLOOR := 0x6000003ff000
HELPER_CFLAGS := -std=gnu11 $(WARN) -Isrc -O2 -g -ffreestanding -fno-stack-protector -fno-builtin \
    -fpie -mno-red-zone -fno-asynchronous-unwind-tables
HELPER_LDFLAGS := -nostdlib -static -no-pie -Wl,-Ttext-segment=0x600000000000 -Wl,-z,noexecstack \
    -Wl,--build-id=none -Wl,--section-start=.stasis_brk_floor=$(HELPER_BRK_FLOOR)
HELPER_OBJ := $(patsubst src/restart/%.S,$(BUILD)/helper/%.o,$(wildcard src/restart/*.S)) \
    $(patsubst src/restart/%.c,$(BUILD)/helper/%.o,$(wildcard src/restart/*.c))
$(BUILD)/helper/%.o: src/restart/%.c $(BUILD)/helper/%.d
	@mkdir -p $(dir $@)
	$(CC) $(HELPER_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/helper/%.o: src/restart/%.S $(BUILD)/helper/%.d
	@mkdir -p $(dir $@)
	$(CC) $(HELPER_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(HELPER): $(HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HELPER_CFLAGS) $(HELPER_LDFLAGS) -o $@ $(HELPER_OBJ) $(ZSTD_A)
	@end=$$(nm $@ | awk '$$3 == "_end" {print $$1}'); \
	 if [ $$((0x$$end)) -gt $$(($(HELPER_BRK_FLOOR))) ]; then \
	     echo "restart helper ends at 0x$$end, past its brk floor page below IMAGE_HELPER_TEXT_END" >&2; \
	     rm -f $@; exit 1; fi

# The programs: each links its own folder's objects and the common code.
objects_of = $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c))
bin/dmtcp_launch: $(call objects_of,src/launch)
bin/dmtcp_restart: $(call objects_of,src/restart-cli)
bin/dmtcp_command: $(call objects_of,src/command)
bin/dmtcp_coordinator: $(call objects_of,src/coordinator)
$(PROGRAMS): $(COMMON_OBJ)
	@mkdir -p bin
	$(CC) $(BASE_CFLAGS) -o $@ $(filter-out $(COMMON_OBJ),$^) $(COMMON_OBJ)

# ---- tests -------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
$(UNIT_BIN): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(COMMON_OBJ)
	$(CC) $(BASE_CFLAGS) -o $@ $< $(COMMON_OBJ) -lzstd

SCEN_SRC := $(wildcard tests/scenarios/*.c)
SCEN_BIN := $(SCEN_SRC:tests/scenarios/%.c=$(BUILD)/tests/scenarios/%)
$(SCEN_BIN): $(BUILD)/tests/scenarios/%: tests/scenarios/%.c $(BUILD)/tests/scenarios/%.d
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -O1 -g $(DEPFLAGS) -MF $@.d -o $@ $< -lpthread -ldl -lm

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

# The header dependencies (DEPFLAGS).  Each .d file is a target without a
# rule: one that is missing counts as changed and rebuilds its output.
DEPFILES := $(patsubst %.o,%.d,$(COMMON_OBJ) $(ENGINE_OBJ) $(HELPER_OBJ) $(UNIT_BIN:=.o) \
    $(foreach p,launch restart-cli command coordinator,$(call objects_of,src/$(p)))) \
    $(SCEN_BIN:=.d) $(BUILD)/lib/libdmtcp_delayresume.so.d
$(DEPFILES):
-include $(wildcard $(DEPFILES))

.PHONY: all test test-scenarios tests demo demo-threads bench install clean
