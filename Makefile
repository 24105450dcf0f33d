# Stasis — top-level build.  `make` leaves the commands in bin/ and the
# libraries in lib/ so everything runs from the source tree.
# Targets: all (default), test, demo, bench, install, clean; asan and fuzz
# (sanitizer build and fuzzing, below).

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

# libsodium (keyed BLAKE2b for the coordinator handshake, src/common/auth.c),
# linked statically into the engine and the commands, from Debian's libsodium-dev.
SODIUM := -Wl,-Bstatic -lsodium -Wl,-Bdynamic

# The engine: preloaded into the user's program.  Only dmtcp_* and the libc
# wrappers are exported; everything it links is private to it.  -Bsymbolic:
# the engine's calls to its own exported functions (gettid, kill, malloc…)
# stay its own even when the program defines a function of the same name.
ENGINE_COMMON := $(BUILD)/src/common/proto.o $(BUILD)/src/common/auth.o $(BUILD)/src/common/secret.o
lib/libdmtcp.so: $(ENGINE_OBJ) $(ENGINE_COMMON) src/engine/exports.map
	@mkdir -p lib
	$(CC) -shared -o $@ $(ENGINE_OBJ) $(ENGINE_COMMON) -Wl,--version-script=src/engine/exports.map \
	    -Wl,--exclude-libs,ALL -Wl,-Bsymbolic -Wl,-z,now -Wl,-Bstatic -lzstd -lsodium -Wl,-Bdynamic -ldl -lpthread

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
	$(CC) $(BASE_CFLAGS) -o $@ $(filter-out $(COMMON_OBJ),$^) $(COMMON_OBJ) $(SODIUM)

# ---- tests -------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
$(UNIT_BIN): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(COMMON_OBJ)
	$(CC) $(BASE_CFLAGS) -o $@ $< $(COMMON_OBJ) -lzstd $(SODIUM)

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

# ---- sanitizers: make asan ----------------------------------------------------
# The four commands, the common code and the unit tests built with
# AddressSanitizer and UndefinedBehaviorSanitizer (clang) into build-asan/,
# the commands in bin-asan/; then the unit, cli and images suites, and the
# incremental tests of chains and their refusals, run against them
# (tests/lib/common.sh takes STASIS_BIN, tests/run-all.sh STASIS_UNIT_DIR).  Reports are written to files in build-asan/reports/, so
# that those of background processes (the coordinator) count too: any report
# fails the target, as does any failed test.
# Not built with sanitizers, used from lib/ as built by `make`:
#  - the engine, libdmtcp.so: it is preloaded into the user's programs,
#    which are not built with ASan, and ASan's runtime must be the first
#    library a process loads;
#  - the restart helper: static and libc-free, it has no runtime to link and
#    replaces its whole address space.  The crafted-image tests
#    (tests/images/crafted-*.sh) and make fuzz cover its checks.
ASAN_CC ?= clang
ASAN_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -O1 -g -fno-omit-frame-pointer \
    -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_BUILD := build-asan
ASAN_COMMON_OBJ := $(COMMON_SRC:%.c=$(ASAN_BUILD)/%.o)
ASAN_PROGRAMS := $(PROGRAMS:bin/%=bin-asan/%)
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(ASAN_BUILD)/tests/unit/%)
ASAN_REPORTS := $(CURDIR)/$(ASAN_BUILD)/reports

$(ASAN_BUILD)/%.o: %.c $(wildcard src/common/*.h) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_CFLAGS) -DSTASIS_VERSION='"$(VERSION)"' -c $< -o $@

bin-asan/dmtcp_launch: $(wildcard src/launch/*.c) $(wildcard src/launch/*.h)
bin-asan/dmtcp_restart: $(wildcard src/restart-cli/*.c) $(wildcard src/restart-cli/*.h)
bin-asan/dmtcp_command: $(wildcard src/command/*.c) $(wildcard src/command/*.h)
bin-asan/dmtcp_coordinator: $(wildcard src/coordinator/*.c) $(wildcard src/coordinator/*.h)
$(ASAN_PROGRAMS): $(ASAN_COMMON_OBJ) $(wildcard src/common/*.h) $(wildcard include/*.h)
	@mkdir -p bin-asan
	$(ASAN_CC) $(ASAN_CFLAGS) -DSTASIS_VERSION='"$(VERSION)"' -o $@ $(filter %.c,$^) $(ASAN_COMMON_OBJ) $(SODIUM)

$(ASAN_BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(ASAN_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_CFLAGS) -o $@ $< $(ASAN_COMMON_OBJ) -lzstd $(SODIUM)

asan: all $(ASAN_PROGRAMS) $(ASAN_UNIT_BIN)
	@rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	@ASAN_OPTIONS=log_path=$(ASAN_REPORTS)/asan:detect_leaks=1:verify_asan_link_order=0 \
	 UBSAN_OPTIONS=log_path=$(ASAN_REPORTS)/ubsan:print_stacktrace=1:halt_on_error=1 \
	 STASIS_BIN=$(CURDIR)/bin-asan STASIS_UNIT_DIR=$(CURDIR)/$(ASAN_BUILD)/tests/unit \
	 STASIS_TEST_FILTER='^(unit|cli|images)/|^incremental/(chain|crafted-parent|refuse-[a-z]*)\.sh$$' \
	 tests/run-all.sh; rc=$$?; \
	 if [ -n "$$(ls -A $(ASAN_REPORTS))" ]; then \
	     echo "make asan: sanitizer reports (in $(ASAN_REPORTS)):"; cat $(ASAN_REPORTS)/*; exit 1; \
	 fi; exit $$rc

# ---- fuzzing: make fuzz -------------------------------------------------------
# libFuzzer harnesses (fuzz/) built with clang, ASan and UBSan into
# build-fuzz/: fuzz_image (everything dmtcp_restart reads from an image and
# its chain before the restart helper runs) and fuzz_proto (the protocol's
# framing and the coordinator's message dispatch).  `make fuzz` runs each
# for FUZZ_SECONDS (default 60) from the seed corpus fuzz/corpus/<harness>/
# (new inputs go to build-fuzz/corpus/), and fails on any crash, leak,
# sanitizer report or timeout; the input that did it is left in
# build-fuzz/artifacts/.  `make fuzz-seeds` writes the seed corpus again
# (fuzz/seeds.c) after a format change.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -O1 -g -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_HARNESSES := $(FUZZ_BUILD)/fuzz_image $(FUZZ_BUILD)/fuzz_proto
FUZZ_IMAGE_SRC := fuzz/fuzz_image.c src/common/image_check.c src/restart-cli/chain.c src/restart-cli/files.c \
    src/restart-cli/trust.c
# conn.c and coordclient.c are included by fuzz_proto.c; log.c is replaced by it
FUZZ_PROTO_SRC := fuzz/fuzz_proto.c src/common/proto.c src/common/cliopt.c src/common/auth.c src/common/secret.c \
    $(filter-out src/coordinator/main.c src/coordinator/log.c src/coordinator/conn.c,$(wildcard src/coordinator/*.c))

$(FUZZ_BUILD)/fuzz_image: $(FUZZ_IMAGE_SRC) $(wildcard src/common/*.h) $(wildcard src/restart-cli/*.h)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_IMAGE_SRC)

$(FUZZ_BUILD)/fuzz_proto: $(FUZZ_PROTO_SRC) src/coordinator/conn.c src/common/coordclient.c $(wildcard src/common/*.h) \
    $(wildcard src/coordinator/*.h)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DSTASIS_VERSION='"$(VERSION)"' -o $@ $(FUZZ_PROTO_SRC) $(SODIUM)

fuzz: $(FUZZ_HARNESSES)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_HARNESSES)

$(FUZZ_BUILD)/seeds: fuzz/seeds.c src/common/image.h src/common/proto.h
	@mkdir -p $(FUZZ_BUILD)
	$(CC) $(BASE_CFLAGS) -o $@ fuzz/seeds.c -lzstd

fuzz-seeds: $(FUZZ_BUILD)/seeds
	$(FUZZ_BUILD)/seeds fuzz/corpus

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/stasis $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(LIBS) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(HELPER) $(DESTDIR)$(PREFIX)/lib/stasis/
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(BUILD) bin lib $(ASAN_BUILD) bin-asan $(FUZZ_BUILD)

# The header dependencies (DEPFLAGS).  Each .d file is a target without a
# rule: one that is missing counts as changed and rebuilds its output.
DEPFILES := $(patsubst %.o,%.d,$(COMMON_OBJ) $(ENGINE_OBJ) $(HELPER_OBJ) $(UNIT_BIN:=.o) \
    $(foreach p,launch restart-cli command coordinator,$(call objects_of,src/$(p)))) \
    $(SCEN_BIN:=.d) $(BUILD)/lib/libdmtcp_delayresume.so.d
$(DEPFILES):
-include $(wildcard $(DEPFILES))

.PHONY: all test test-scenarios tests demo demo-threads bench install clean asan fuzz fuzz-seeds
