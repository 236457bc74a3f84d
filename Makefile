# settle: see README.md and tests/README.md. `make`, `make test`,
# `make demo`, `make bench`, `make tsan`, `make clean`.
#
# Warnings. A plain `make` warns but does not stop on a warning, so a user
# with another compiler still gets a program. Developers and CI build with
# DEVELOPER=1 (as git does), which adds -Werror; `make test` (and `make
# tsan`) always set DEVELOPER=1, and .ci/run exports it, so no warning gets
# past a test run. Set DEVELOPER=1 in your environment while working on
# settle: the compile flags are recorded in build/FLAGS and every object is
# rebuilt when they change, so flipping between `make` and `make test`
# without it rebuilds everything each time.
#
# CPPFLAGS, CFLAGS and LDFLAGS are honoured on every compile and link line
# (e.g. `make CPPFLAGS=-I/opt/csv/include LDFLAGS=-L/opt/csv/lib`).
#
# Dependencies. make looks for zlib.h, csv.h and sqlite3.h itself (in the
# -I folders of CPPFLAGS, /usr/local/include and /usr/include) and runs
# scripts/install-deps.sh only when one is missing, saying so; the fuzz
# targets ask it for clang and libFuzzer (it returns at once when they are
# there and only then may call apt-get).
CC      ?= cc
WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2 -Wwrite-strings
ifneq ($(filter test tsan,$(MAKECMDGOALS)),)
DEVELOPER = 1
endif
ifeq ($(DEVELOPER),1)
WARN   += -Werror
endif
CFLAGS  ?= -O2 -g
# ISA-L (optional, SPEC 10 v2): where its header isa-l/igzip_lib.h is found
# (the same folders as the other headers, below), settle inflates gzip with
# igzip and links -lisal; zlib stays the reference and the fallback
# (gzsrc.h). `make ISAL=0` builds without it even where it is installed.
DEP_DIRS = $(patsubst -I%,%,$(filter -I%,$(CPPFLAGS))) /usr/local/include /usr/include
ISAL ?= $(if $(firstword $(wildcard $(addsuffix /isa-l/igzip_lib.h,$(DEP_DIRS)))),1,0)
ifeq ($(ISAL),1)
ISAL_DEF  = -DSETTLE_ISAL
ISAL_LIBS = -lisal
endif
ALLCFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(ISAL_DEF) $(CFLAGS) -Iinclude -MMD -MP
LDLIBS  = -lcsv -lz $(ISAL_LIBS) -lsqlite3 -lpthread
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
TSANFLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer

SRC     = $(wildcard src/*.c)
LIBSRC  = $(filter-out src/main.c,$(SRC))
OBJ     = $(SRC:src/%.c=build/%.o)
LIBOBJ  = $(LIBSRC:src/%.c=build/%.o)
SANOBJ  = $(LIBSRC:src/%.c=build/san/%.o)
TSANOBJ = $(LIBSRC:src/%.c=build/tsan/%.o)
TESTSRC = $(wildcard tests/test_*.c)
TESTS   = $(TESTSRC:tests/%.c=build/%)
SANTESTS = $(TESTSRC:tests/%.c=build/san/%)
# unit tests of the modules that start threads (usage, gzsrc and gzindex:
# the gzip inflater thread, zlib's and igzip's; batch: the records the
# digest threads hand over)
TSANTESTS = build/tsan/test_usage build/tsan/test_gzsrc build/tsan/test_gzindex \
            build/tsan/test_batch
# e2e cases that run threads: ingest -j 2 with a gzip file, rating threads
# on several batches (and the forced walk), and closes (the ledger's render
# and free threads) with re-settles
TSANCASES = determinism-jobs rate-threads settle-two-months settle-correction-adjustment walk-runs-on-disk

all: settle

# Every object depends on build/FLAGS, which changes only when the flags
# do, so a change of CFLAGS, CPPFLAGS, LDFLAGS or DEVELOPER rebuilds.
FLAGS_NOW = $(CC) $(ALLCFLAGS) | $(LDFLAGS) | $(LDLIBS)
build/FLAGS: FORCE
	@mkdir -p build
	@if [ "$$(cat $@ 2>/dev/null)" != '$(FLAGS_NOW)' ]; then \
		[ -f $@ ] && echo "  FLAGS   changed, rebuilding"; \
		echo '$(FLAGS_NOW)' >$@; fi

# Headers settle builds against; make checks them itself so that a
# normal build never runs the installer.
DEP_HEADERS = zlib.h csv.h sqlite3.h
DEP_MISSING = $(strip $(foreach h,$(DEP_HEADERS),\
	$(if $(firstword $(wildcard $(addsuffix /$(h),$(DEP_DIRS)))),,$(h))))
ifeq ($(DEP_MISSING),)
deps:
	@:
else
deps:
	@echo "  DEPS    $(DEP_MISSING) not found: running scripts/install-deps.sh build"
	@sh scripts/install-deps.sh build
endif

# clang and its libFuzzer runtime, for the fuzz targets only
fuzz-deps:
	@sh scripts/install-deps.sh fuzz

settle: $(OBJ) | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

build/%.o: src/%.c build/FLAGS | deps
	@mkdir -p build
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -c -o $@ $<

build/san/%.o: src/%.c build/FLAGS | deps
	@mkdir -p build/san
	@echo "  CC san  $<"
	@$(CC) $(ALLCFLAGS) $(SANFLAGS) -c -o $@ $<

build/tsan/%.o: src/%.c build/FLAGS | deps
	@mkdir -p build/tsan
	@echo "  CC tsan $<"
	@$(CC) $(ALLCFLAGS) $(TSANFLAGS) -c -o $@ $<

build/test_%: tests/test_%.c $(LIBOBJ) build/FLAGS | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

build/san/test_%: tests/test_%.c $(SANOBJ) build/FLAGS | deps
	@mkdir -p build/san
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(SANOBJ) $(LDLIBS)

build/tsan/test_%: tests/test_%.c $(TSANOBJ) build/FLAGS | deps
	@mkdir -p build/tsan
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(TSANFLAGS) $(LDFLAGS) -o $@ $< $(TSANOBJ) $(LDLIBS)

build/san/settle: $(SANOBJ) build/san/main.o | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $(SANOBJ) build/san/main.o $(LDLIBS)

build/tsan/settle: $(TSANOBJ) build/tsan/main.o | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(TSANFLAGS) $(LDFLAGS) -o $@ $(TSANOBJ) build/tsan/main.o $(LDLIBS)

# Unit tests, the e2e self-test, end-to-end tests, the crash test, then
# unit and e2e again under ASan + UBSan, the threaded paths under TSan, and
# each fuzz target for FUZZ_TEST_SECONDS. Always with -Werror (DEVELOPER=1).
FUZZ_TEST_SECONDS ?= 3
test: settle $(TESTS) build/san/settle $(SANTESTS) build/gen-usage \
		build/tsan/settle $(TSANTESTS) build/readbench build/sqlload
	@sh tests/run-unit.sh $(TESTS)
	@sh tests/e2e-selftest.sh
	@sh tests/install-test.sh
	@sh tests/e2e.sh ./settle
	@echo "== e2e with SETTLE_FULL_REPLAY=1 (every earlier final period settled again)"
	@SETTLE_FULL_REPLAY=1 sh tests/e2e.sh ./settle
	@$(MAKE) --no-print-directory doctest
	@sh scripts/crashtest.sh --points 12 --timed 6 --records 30000
	@echo "== under AddressSanitizer + UndefinedBehaviorSanitizer"
	@ASAN_OPTIONS=detect_leaks=1 sh tests/run-unit.sh $(SANTESTS)
	@ASAN_OPTIONS=detect_leaks=1 sh tests/e2e.sh build/san/settle
	@$(MAKE) --no-print-directory tsan-run
	@echo "== fuzz, $(FUZZ_TEST_SECONDS) s per target"
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) \
		DEVELOPER=$(DEVELOPER)

# ThreadSanitizer over the threaded paths: halt_on_error makes a race
# fail the test (TSan prints only when it finds one, to stderr, which the
# e2e cases compare).
tsan: build/tsan/settle $(TSANTESTS) build/sqlload
	@$(MAKE) --no-print-directory tsan-run

tsan-run:
	@echo "== under ThreadSanitizer"
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" \
		sh tests/run-unit.sh $(TSANTESTS)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" \
		sh tests/e2e.sh build/tsan/settle $(TSANCASES)

unit: $(TESTS)
	@sh tests/run-unit.sh $(TESTS)

e2e: settle build/sqlload
	@sh tests/e2e-selftest.sh
	@sh tests/e2e.sh ./settle

# every e2e case again with the resume path off (resume.h): the oracle
e2e-replay: settle build/sqlload
	@SETTLE_FULL_REPLAY=1 sh tests/e2e.sh ./settle

demo: settle
	@sh scripts/demo.sh

bench: settle build/gen-usage build/zfloor
	@sh scripts/bench.sh

# Kills `settle run` at many points (60 steps, and 30 instants spread over
# runs of about two seconds each) and checks every rerun against a clean
# run; `make test` runs a short version (12 steps, 6 instants).
crashtest: settle build/gen-usage
	@sh scripts/crashtest.sh --points 60 --timed 30 --records 2000000

# Installation, with the GNU variables: `make install PREFIX=/usr/local`
# (default), `DESTDIR` for staging (packagers), `bindir`, `INSTALL`.
# Installs ./settle as $(DESTDIR)$(bindir)/settle; `make uninstall`
# removes exactly that file.
PREFIX  ?= /usr/local
prefix  ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir  ?= $(exec_prefix)/bin
INSTALL ?= install
INSTALL_PROGRAM ?= $(INSTALL)

install: settle
	$(INSTALL) -d $(DESTDIR)$(bindir)
	$(INSTALL_PROGRAM) -m 0755 settle $(DESTDIR)$(bindir)/settle

uninstall:
	rm -f $(DESTDIR)$(bindir)/settle

clean:
	rm -rf build settle demo-out demo.db

.PHONY: all deps fuzz-deps test tsan tsan-run unit e2e e2e-replay demo bench crashtest clean FORCE \
        install uninstall
.SECONDARY:

-include $(OBJ:.o=.d) $(SANOBJ:.o=.d) $(TSANOBJ:.o=.d) build/tsan/main.d \
	$(TESTS:=.d) $(SANTESTS:=.d) $(TSANTESTS:=.d)

build/gen-usage: scripts/gen-usage.c build/FLAGS
	@mkdir -p build
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) -O2 $(LDFLAGS) -o $@ $< -lz

# loads a state an older settle wrote, kept as SQL text, for the upgrade
# e2e cases (tests/sqlload.c; tests/e2e.sh names it in $SQLLOAD)
build/sqlload: tests/sqlload.c build/FLAGS
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< -lsqlite3

# the usage reader alone, for timing and profiling it (scripts/readbench.c)
build/readbench: scripts/readbench.c $(LIBOBJ)
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

build/zfloor: scripts/zfloor.c build/FLAGS
	@mkdir -p build
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(ISAL_DEF) -O2 $(LDFLAGS) -o $@ $< -lz $(ISAL_LIBS)

# Fuzz targets (libFuzzer; needs clang, see scripts/install-deps.sh):
# `make fuzz FUZZ_SECONDS=N` builds every target in tests/fuzz/, replays
# the inputs of tests/fuzz/regress/, then fuzzes each target for N
# seconds from its seed corpus tests/fuzz/corpus/TARGET/ (new inputs go
# to build/fuzz/corpus/, crashes to build/fuzz/). `make test` runs 3 s each.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZSRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZBIN  = $(FUZZSRC:tests/fuzz/%.c=build/fuzz/%)
FUZZOBJ  = $(LIBSRC:src/%.c=build/fuzz/obj/%.o)
FUZZFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

build/fuzz/obj/%.o: src/%.c build/FLAGS | deps fuzz-deps
	@mkdir -p build/fuzz/obj
	@echo "  CC fuzz $<"
	@$(FUZZ_CC) $(ALLCFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZOBJ) build/FLAGS | deps fuzz-deps
	@echo "  CCLD    $@"
	@$(FUZZ_CC) $(ALLCFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer -Itests/fuzz \
		$(LDFLAGS) -o $@ $< $(FUZZOBJ) $(LDLIBS)

fuzz: $(FUZZBIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZBIN)

.PHONY: fuzz
-include $(FUZZOBJ:.o=.d) $(FUZZBIN:=.d)

# Document tests (SPEC 12, `make doctest`): tests/doc/mkdocs.c writes
# sample invoices, credit notes and corrected invoices; tests/doc/check.sh
# checks each UBL file with xmllint against the EN 16931 / Peppol rules
# settle relies on, and renders each HTML page with headless chromium
# (PDF, text, screenshots in build/doc-samples/); tests/doc/check-export.sh
# then closes and exports the e2e case export-documents and the demo with
# ./settle and checks what `settle export` wrote the same way (and its
# numbers against the CSVs, build/doc-export/). Installs its tools with
# scripts/install-doc-deps.sh when missing; `make test` runs it.
build/mkdocs: tests/doc/mkdocs.c $(LIBOBJ) | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

doctest: build/mkdocs settle
	@sh scripts/install-doc-deps.sh
	@sh tests/doc/check.sh build/mkdocs build/doc-samples
	@sh tests/doc/check-export.sh ./settle build/doc-export

.PHONY: doctest
-include build/mkdocs.d
