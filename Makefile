# vfiokit — plain Makefile (pciutils/libbpf style).
#   make            library + tools in build/
#   make check      deps, unit suite, sanitizer suite, real-kernel suite
#   make demo       the main job, narrated
#   make DEV=1      -Werror + ASan/UBSan
VERSION   := 0.1.0
SOVERSION := 0

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
UDEVDIR ?= /usr/lib/udev
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

BUILD ?= build
CC    ?= cc
PKG_CONFIG ?= pkg-config

# libvirt's, libkmod's and libxml2's headers only: the library loads
# libvirt.so.0 when a command first talks to libvirt (lib/launch/libvirt-dl.c),
# libkmod.so.2 when a module is first looked up (lib/core/kmod-dl.c) and
# libxml2.so.2 when XML is first read (lib/core/xml-dl.c; vfiokit writes XML
# itself), so that plan, gen and status do not map them and all they pull in
# at every start.
DEPS_PC := libpci libudev json-c inih uuid
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_PC) libkmod libvirt libxml-2.0 2>/dev/null)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS_PC) 2>/dev/null) -ldl -lpthread
# The unit suite and the fuzz targets read the XML back with libxml2 themselves.
XML_LIBS    := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wvla -Wwrite-strings -Wundef -Wno-unused-parameter
CFLAGS ?= -O2 -g
ifeq ($(DEV),1)
CFLAGS += -Werror -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -DVFK_VERSION='"$(VERSION)"' \
	-Ilib $(DEPS_CFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC := $(sort $(wildcard lib/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_PIC := $(LIB_SRC:%.c=$(BUILD)/%.pic.o)
TOOLS   := vfio-ls vfio-check vfio-bind vfio-mdev vfio-vm
TOOL_BIN := $(TOOLS:%=$(BUILD)/bin/%)
COMMON_OBJ := $(BUILD)/tools/common.o
TEST_SRC := $(sort $(wildcard tests/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

SONAME  := libvfiokit.so.$(SOVERSION)
LIB_SO  := $(BUILD)/lib/libvfiokit.so.$(VERSION)
LIB_A   := $(BUILD)/lib/libvfiokit.a

.PHONY: all deps check check-unit check-san check-vm check-valgrind check-completion demo bench install uninstall \
	clean man fuzz fuzz-build deb
all: $(LIB_SO) $(LIB_A) $(TOOL_BIN) $(BUILD)/vfiokit.pc man

deps:
	@scripts/deps.sh build check demo

$(BUILD)/%.o: %.c lib/vfiokit.h lib/core/internal.h lib/core/macro.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fvisibility=hidden -MMD -MP -c -o $@ $<

# Tests build paths from fixture roots of unknown length; truncation there is checked at run time.
$(BUILD)/tests/%.o: tests/%.c lib/vfiokit.h tests/harness.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-format-truncation -Itests -MMD -MP -c -o $@ $<

$(BUILD)/%.pic.o: %.c lib/vfiokit.h lib/core/internal.h lib/core/macro.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fvisibility=hidden -fPIC -MMD -MP -c -o $@ $<

$(LIB_SO): $(LIB_PIC) lib/libvfiokit.map
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libvfiokit.map \
		-Wl,--no-undefined $(LDFLAGS) -o $@ $(LIB_PIC) $(DEPS_LIBS)
	$(Q)ln -sf libvfiokit.so.$(VERSION) $(BUILD)/lib/$(SONAME)
	$(Q)ln -sf $(SONAME) $(BUILD)/lib/libvfiokit.so

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Tools link the static archive: a build-tree binary runs without LD_LIBRARY_PATH.
# the tools' objects are made by a pattern chain: kept, not deleted as
# intermediates, so that `make -q all` says whether the build is current
.SECONDARY: $(TOOL_BIN:$(BUILD)/bin/%=$(BUILD)/tools/%.o)
$(BUILD)/bin/%: $(BUILD)/tools/%.o $(COMMON_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS)

# Tests link the shared library: they exercise the exported ABI. The few
# internal units a test drives directly are linked in as well: the XML writer
# (fed bytes no profile lets through), the libxml2 loader that reads it back,
# the diff of vfio-check --fix (applied back in a test), and QEMU's memlock
# limit (raised in a test's own process).
TEST_INTERNAL := $(addprefix $(BUILD)/lib/,emit/xml-tree.o core/strbuf.o core/xml-dl.o core/dl.o \
		 fix/diff.o launch/memlock.o)
$(BUILD)/tests/run-tests: $(TEST_OBJ) $(TEST_INTERNAL) $(LIB_SO)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(TEST_INTERNAL) -L$(BUILD)/lib -lvfiokit \
		-Wl,-rpath,'$$ORIGIN/../lib' $(DEPS_LIBS) $(XML_LIBS)

$(BUILD)/vfiokit.pc: lib/vfiokit.pc.in Makefile
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|;s|@LIBDIR@|$(LIBDIR)|;s|@INCDIR@|$(INCDIR)|;s|@VERSION@|$(VERSION)|' $< > $@

MAN_SRC := $(wildcard docs/*.scd)
MAN_OUT := $(MAN_SRC:docs/%.scd=$(BUILD)/man/%)
man: $(MAN_OUT)
$(BUILD)/man/%: docs/%.scd
	@mkdir -p $(dir $@)
	$(Q)if command -v scdoc >/dev/null; then scdoc < $< > $@.tmp; else cp $< $@.tmp; fi && mv $@.tmp $@

tests: all $(BUILD)/tests/run-tests

check-unit: tests
	$(BUILD)/tests/run-tests

check-san:
	$(MAKE) -j$(shell nproc) BUILD=build-san DEV=1 tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-san/tests/run-tests

check-vm: all
	tests/vm/run-all.sh

# the shell completion against the tools' own --help and option parsing
check-completion: all
	tests/completion.sh

# The unit suite under valgrind memcheck (no invalid access, no definite leak),
# sharded over the CPUs; the few tests too slow for it are left to the plain and
# sanitizer runs (named on INFO lines).
check-valgrind: tests
	scripts/valgrind.sh $(BUILD)

# ---- fuzzing: libFuzzer targets fuzz/fuzz-*.c, built with clang and ASan+UBSan.
#   make fuzz                     every target for FUZZ_TIME seconds (60)
#   make fuzz FUZZ_TIME=600 FUZZ_TARGETS="scan mdev" FUZZ_JOBS=2
#   make fuzz FUZZ_TIME=7200 FUZZ_GOAL=10000000   until 10M executions in total
# Corpora grow in $(FUZZ_BUILD)/corpus/<target>, seeds (fixtures, configs/) in
# $(FUZZ_BUILD)/seeds, crashes land in $(FUZZ_BUILD)/crashes; execution totals
# per target accumulate in $(FUZZ_BUILD)/stats. See scripts/fuzz.sh.
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=gnu11 $(WARN) -Wno-format-nonliteral -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -DVFK_VERSION='"$(VERSION)"' -Ilib $(DEPS_CFLAGS)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz-*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB := $(FUZZ_BUILD)/libvfiokit-fuzz.a

$(FUZZ_BUILD)/lib/%.o: lib/%.c lib/vfiokit.h lib/core/internal.h lib/core/macro.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_XFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# A target that #includes a lib/*.c file defines all of its symbols itself, so
# the archive's copy of that file is never pulled in.
$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: fuzz/fuzz-%.c fuzz/fuzz.h $(FUZZ_LIB)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ifuzz -MMD -MP -o $@ $< $(FUZZ_LIB) $(DEPS_LIBS) $(XML_LIBS)

$(FUZZ_BUILD)/seeds/.stamp: fuzz/mkseeds.py tests/mkhost.py fuzz/tiny.host $(wildcard configs/*.ini) \
		$(wildcard tests/fixtures/hosts/*.host)
	$(Q)rm -rf $(FUZZ_BUILD)/seeds && mkdir -p $(FUZZ_BUILD)/seeds
	$(Q)python3 fuzz/mkseeds.py $(FUZZ_BUILD)/seeds && touch $@

fuzz-build: $(FUZZ_BIN) $(FUZZ_BUILD)/seeds/.stamp

fuzz:
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_GOAL=$(FUZZ_GOAL) scripts/fuzz.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

check:
	@scripts/check.sh

demo:
	@scripts/demo.sh

# every bench runs whatever the others did; the end is one table of every figure, the
# same as JSON in $(BUILD)/bench.json, and exit 1 if a goal was missed (bench/all.sh)
bench:
	@scripts/deps.sh bench && $(MAKE) all && VFK_BIN=$(BUILD)/bin \
		VFK_BENCH_RESULTS=$(BUILD)/bench-results.txt VFK_BENCH_JSON=$(BUILD)/bench.json bench/all.sh

# Debian packages (debian/): vfiokit, libvfiokit0, libvfiokit-dev (and their -dbgsym)
# with the .changes and .buildinfo in $(BUILD)/deb/, built by dpkg-buildpackage from
# a clean copy of the tree (scripts/mkdeb.sh); tests/deb.sh installs and runs them.
deb:
	@scripts/deps.sh build deb && scripts/mkdeb.sh $(BUILD)/deb

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(TOOL_BIN) $(DESTDIR)$(BINDIR)/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libvfiokit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libvfiokit.so
	install -m 644 lib/vfiokit.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(BUILD)/vfiokit.pc $(DESTDIR)$(PKGCONFIGDIR)/
	for m in $(MAN_OUT); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(UDEVDIR)/rules.d $(DESTDIR)$(SYSCONFDIR)/modprobe.d
	sed 's|@BINDIR@|$(BINDIR)|g' udev/60-vfiokit.rules > $(DESTDIR)$(UDEVDIR)/rules.d/60-vfiokit.rules
	sed 's|@BINDIR@|$(BINDIR)|g' udev/61-vfiokit-mdev.rules > $(DESTDIR)$(UDEVDIR)/rules.d/61-vfiokit-mdev.rules
	install -m 644 udev/vfiokit-modprobe.conf $(DESTDIR)$(SYSCONFDIR)/modprobe.d/vfiokit.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' libvirt/qemu-hook > $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/vfiokit
	chmod 755 $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/vfiokit
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/vfio-vm@.service > $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-vm@.service
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/vfiokit-restore.service > \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vfiokit-restore.service
	install -m 644 systemd/vfiokit-fds.socket $(DESTDIR)$(SYSTEMDUNITDIR)/vfiokit-fds.socket
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/vfiokit-fds@.service > \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vfiokit-fds@.service
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)/multi-user.target.wants
	ln -sf ../vfiokit-restore.service $(DESTDIR)$(SYSTEMDUNITDIR)/multi-user.target.wants/
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 completion/vfiokit.bash $(DESTDIR)$(BASHCOMPDIR)/vfio-ls
	for t in $(filter-out vfio-ls,$(TOOLS)); do ln -sf vfio-ls $(DESTDIR)$(BASHCOMPDIR)/$$t; done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(LIBDIR)/libvfiokit.* \
		$(DESTDIR)$(INCDIR)/vfiokit.h $(DESTDIR)$(PKGCONFIGDIR)/vfiokit.pc \
		$(DESTDIR)$(UDEVDIR)/rules.d/60-vfiokit.rules $(DESTDIR)$(UDEVDIR)/rules.d/61-vfiokit-mdev.rules \
		$(DESTDIR)$(SYSCONFDIR)/modprobe.d/vfiokit.conf \
		$(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/vfiokit $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-vm@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vfiokit-restore.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vfiokit-fds.socket $(DESTDIR)$(SYSTEMDUNITDIR)/vfiokit-fds@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/multi-user.target.wants/vfiokit-restore.service \
		$(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	for m in $(MAN_OUT); do n=$${m##*/}; s=$${n##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$n; done

clean:
	rm -rf build build-san $(FUZZ_BUILD)

-include $(shell find $(BUILD) $(if $(filter fuzz%,$(MAKECMDGOALS)),$(FUZZ_BUILD)) -name '*.d' 2>/dev/null)
