# crm — one non-recursive Makefile. Configuration first.
VERSION  = 0.1.0
PREFIX   = /usr/local
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
COMPDIR  = $(PREFIX)/share/bash-completion/completions
CC      ?= cc
OPT     ?= -O2
CFLAGS  += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes $(OPT) -g
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DCRM_VERSION='"$(VERSION)"' -iquote lib
PKGS     = lmdb yaml-0.1
LDLIBS  += -lcsv $$(pkg-config --libs $(PKGS)) -lm -lpthread

# SANITIZE=1 builds with ASan and UBSan into its own directory, TSAN=1
# with ThreadSanitizer (for the tools that read in a second thread).
# FUZZ=1 builds the libFuzzer targets (make FUZZ=1 fuzz) with clang, ASan
# and UBSan into their own directory; scripts/fuzz runs them.
ifeq ($(FUZZ),1)
CC       = clang
BUILD   ?= build-fuzz
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
OPT      = -O1
else ifeq ($(TSAN),1)
BUILD   ?= build-tsan
CFLAGS  += -fsanitize=thread
LDFLAGS += -fsanitize=thread
OPT      = -O1
else ifeq ($(SANITIZE),1)
BUILD   ?= build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
OPT      = -O1
else
# The whole program optimised at link time, with GCC: the library's
# small functions are inlined into the tools' loops. `make LTO=` builds
# without it. The objects differ (GCC's bytecode, not machine code), so
# each way has its own directory. The late uninitialised-use warning is
# left to builds without it (.ci/run makes one): with functions inlined
# across files it warns about out-parameters read only after success.
ifneq ($(shell $(CC) -v 2>&1 | grep -c '^gcc version'),0)
LTO     ?= -flto=auto
ifneq ($(LTO),)
LDFLAGS += -Wno-maybe-uninitialized
AR       = gcc-ar
endif
endif
CFLAGS  += $(LTO)
BUILD   ?= build$(if $(LTO),,-nolto)
endif

# Every cmd/NAME.c is the tool NAME.
TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=$(BUILD)/lib/%.o)
BINS   = $(TOOLS:%=$(BUILD)/bin/%)
UNITS  = $(patsubst tests/%.c,$(BUILD)/bin/%,$(wildcard tests/unit*.c))
FUZZERS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))

all: $(BINS) $(BUILD)/bin/crm-gen

$(BUILD)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $$(pkg-config --cflags $(PKGS)) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcrm.a: $(LIBOBJ)
	$(AR) rcs $@ $(LIBOBJ)

$(BUILD)/bin/%: cmd/%.c $(BUILD)/libcrm.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcrm.a $(LDLIBS)

$(BUILD)/bin/crm-gen: scripts/gen-data.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ scripts/gen-data.c -lm

# Each tests/unit*.c is a program of library unit tests.
$(BUILD)/bin/%: tests/%.c tests/unit.h tests/unit-strtab.h $(BUILD)/libcrm.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcrm.a $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/libcrm.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libcrm.a $(LDLIBS)

fuzz: $(FUZZERS)

# The test suite: library unit tests, then the black-box tests of every tool.
check: all $(UNITS)
	for u in $(UNITS); do $$u || exit 1; done
	BIN=$(CURDIR)/$(BUILD)/bin sh tests/run

# The main job of the README: generated data through a pipeline.
demo: all
	sh scripts/demo $(BUILD)/bin

# crm-report's HTML page in headless Chromium: no console messages, every
# chart there, and $(BUILD)/report/report.png for a person to look at.
screenshot: all
	sh scripts/html-check $(BUILD)/bin $(BUILD)/report

lint:
	mandoc -Tlint -W warning man/*.[157]
	clang-format --dry-run -Werror lib/*.[ch] cmd/*.c tests/unit*.[ch] tests/fuzz/*.[ch] scripts/gen-data.c
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Ilib lib cmd

format:
	clang-format -i lib/*.[ch] cmd/*.c tests/unit*.[ch] tests/fuzz/*.[ch] scripts/gen-data.c

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(COMPDIR)
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	cp man/*.1 $(DESTDIR)$(MANDIR)/man1/
	cp man/*.5 $(DESTDIR)$(MANDIR)/man5/
	cp man/*.7 $(DESTDIR)$(MANDIR)/man7/
	cp scripts/crm.bash $(DESTDIR)$(COMPDIR)/crm
	for t in $(filter-out crm,$(TOOLS)); do ln -sf crm $(DESTDIR)$(COMPDIR)/$$t; done

clean:
	rm -rf build build-san build-fuzz build-tsan build-nolto

.PHONY: all check demo fuzz lint format install clean screenshot
.SECONDARY: $(LIBOBJ)
