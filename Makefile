# umfax - incoming fax to mail.  One Makefile for everything.
#
#   make            build the five programs into build/bin
#   make demo       install what is missing, build, replay a capture to a Maildir
#   make check      install what is missing, build, run every test
#   make asan       build with AddressSanitizer+UBSan, run unit and e2e tests
#   make fuzz       run every fuzz target for FUZZTIME seconds (default 300)
#   make bench      benchmarks (never part of check)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/umfax
SYSCONFDIR ?= /etc
DESTDIR  ?=

CC       ?= cc
WERROR   ?= -Werror
OPT      ?= -O2
PKGS     := spandsp libtiff-4 libosip2 libpcap openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wformat=2 $(WERROR)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -Ilib $(PKG_CFLAGS)
LDLIBS   = $(PKG_LIBS) -lm

# Out-of-tree build directory: build/ normally, build-asan/ for make asan.
B        ?= build
SHARED   ?= $(abspath ../shared)
export SHARED

PROGS    := sipredirect t38recv faxtiff umresolve faxmail
LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_A    := $(B)/libumfax.a
PROG_BIN := $(PROGS:%=$(B)/bin/%)
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
MANS     := $(sort $(wildcard man/man*/*.[1-8]))

.PHONY: all deps demo check test unit e2e lint asan fuzz fuzz-check bench valgrind \
        install uninstall clean tools test-progs

all: $(PROG_BIN) $(TOOL_BIN)

tools: $(TOOL_BIN)

# The packages a fresh Debian 12 needs; installs only what is missing.
deps:
	@sh share/install-deps

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

.SECONDEXPANSION:
$(B)/bin/%: $$(addprefix $(B)/obj/,$$(subst .c,.o,$$(wildcard bin/$$*/*.c))) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LDLIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

$(B)/tools/%: $(B)/obj/tests/tools/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- tests -------------------------------------------------------------

unit: $(UNIT_BIN)
	@sh tests/run-unit $(UNIT_BIN)

e2e: all $(B)/bench/sipload $(B)/bench/t38live_bench
	@B=$(B) sh tests/run-e2e

lint:
	@echo "mandoc -Tlint $(MANS)"
	@mandoc -Tlint -Wwarning $(MANS)
	@sh tests/check-manpages

test: unit e2e lint

# Every program of the e2e tests under valgrind (make valgrind; not in check).
valgrind: all $(B)/bench/sipload
	@B=$(B) sh tests/run-valgrind

# Builds run two at a time (this is a 2-core machine); tests one at a time.
check: deps
	$(MAKE) -j2 all test-progs
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) fuzz-check

ASAN_VARS = B=build-asan OPT=-O1 WERROR= SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
asan:
	$(MAKE) -j2 $(ASAN_VARS) all test-progs
	$(MAKE) $(ASAN_VARS) unit e2e

# The unit tests and the load tools the e2e tests drive, built, not run.
test-progs: $(UNIT_BIN) $(B)/bench/sipload $(B)/bench/t38live_bench

# ---- fuzzing (clang + libFuzzer) -----------------------------------------

FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all -Ilib $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)

build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

FUZZTIME ?= 300
fuzz: $(FUZZ_BIN)
	@sh tests/run-fuzz $(FUZZTIME) $(FUZZ_BIN)

# make check: each target for a short fixed time, then its regression corpus.
fuzz-check:
	$(MAKE) -j2 $(FUZZ_BIN)
	@sh tests/run-fuzz 10 $(FUZZ_BIN)

# ---- demo and bench -------------------------------------------------------

demo: deps
	$(MAKE) all
	@B=$(B) sh examples/demo.sh

bench: all $(BENCH_BIN)
	@B=$(B) sh bench/run

# ---- install ----------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/umfax
	install -m 0755 $(B)/bin/t38recv $(B)/bin/faxtiff $(B)/bin/umresolve $(B)/bin/faxmail $(DESTDIR)$(BINDIR)/
	install -m 0755 $(B)/bin/sipredirect $(DESTDIR)$(SBINDIR)/
	for f in $(MANS); do s=$${f##*.}; install -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$s/; done
	cp -R share/umfax/. $(DESTDIR)$(DATADIR)/
	for f in umfax.conf directory.conf; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/umfax/$$f ] || install -m 0640 share/umfax/$$f $(DESTDIR)$(SYSCONFDIR)/umfax/$$f; done

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(SBINDIR)/sipredirect
	for f in $(MANS); do s=$${f##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}; done
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-fuzz
