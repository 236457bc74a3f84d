# settle: see README.md. `make`, `make test`, `make demo`, `make bench`,
# `make clean`.
CC      ?= cc
WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2 -Wwrite-strings
CFLAGS  ?= -O2 -g
ALLCFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -MMD -MP
LDLIBS  = -lcsv -lz -lsqlite3 -lpthread
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer

SRC     = $(wildcard src/*.c)
LIBSRC  = $(filter-out src/main.c,$(SRC))
OBJ     = $(SRC:src/%.c=build/%.o)
LIBOBJ  = $(LIBSRC:src/%.c=build/%.o)
SANOBJ  = $(LIBSRC:src/%.c=build/san/%.o)
TESTSRC = $(wildcard tests/test_*.c)
TESTS   = $(TESTSRC:tests/%.c=build/%)
SANTESTS = $(TESTSRC:tests/%.c=build/san/%)

all: settle

# Installs zlib, libcsv and sqlite3 headers (and clang for the fuzz targets)
# when one is missing.
deps:
	@sh scripts/install-deps.sh

settle: $(OBJ) | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) -o $@ $(OBJ) $(LDLIBS)

build/%.o: src/%.c | deps
	@mkdir -p build
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -c -o $@ $<

build/san/%.o: src/%.c | deps
	@mkdir -p build/san
	@echo "  CC san  $<"
	@$(CC) $(ALLCFLAGS) $(SANFLAGS) -c -o $@ $<

build/test_%: tests/test_%.c $(LIBOBJ) | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

build/san/test_%: tests/test_%.c $(SANOBJ) | deps
	@mkdir -p build/san
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ $< $(SANOBJ) $(LDLIBS)

build/san/settle: $(SANOBJ) build/san/main.o | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests, end-to-end tests, then both again under ASan + UBSan, then
# each fuzz target for FUZZ_TEST_SECONDS.
FUZZ_TEST_SECONDS ?= 3
test: settle $(TESTS) build/san/settle $(SANTESTS) build/gen-usage
	@sh tests/run-unit.sh $(TESTS)
	@sh tests/e2e.sh ./settle
	@sh scripts/crashtest.sh --points 12 --records 30000
	@echo "== under AddressSanitizer + UndefinedBehaviorSanitizer"
	@ASAN_OPTIONS=detect_leaks=1 sh tests/run-unit.sh $(SANTESTS)
	@ASAN_OPTIONS=detect_leaks=1 sh tests/e2e.sh build/san/settle
	@echo "== fuzz, $(FUZZ_TEST_SECONDS) s per target"
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)

unit: $(TESTS)
	@sh tests/run-unit.sh $(TESTS)

e2e: settle build/gen-usage
	@sh tests/e2e.sh ./settle

demo: settle
	@sh scripts/demo.sh

bench: settle build/gen-usage build/zfloor
	@sh scripts/bench.sh

# Kills `settle run` at many points and checks every rerun against a
# clean run; `make test` runs a short version.
crashtest: settle build/gen-usage
	@sh scripts/crashtest.sh --points 60

clean:
	rm -rf build settle demo-out demo.db

.PHONY: all deps test unit e2e demo bench crashtest clean
.SECONDARY:

-include $(OBJ:.o=.d) $(SANOBJ:.o=.d) $(TESTS:=.d) $(SANTESTS:=.d)

build/gen-usage: scripts/gen-usage.c
	@mkdir -p build
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -o $@ $< -lz

build/zfloor: scripts/zfloor.c
	@mkdir -p build
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -o $@ $< -lz

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

build/fuzz/obj/%.o: src/%.c | deps
	@mkdir -p build/fuzz/obj
	@echo "  CC fuzz $<"
	@$(FUZZ_CC) $(ALLCFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZOBJ) | deps
	@echo "  CCLD    $@"
	@$(FUZZ_CC) $(ALLCFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer -Itests/fuzz \
		-o $@ $< $(FUZZOBJ) $(LDLIBS)

fuzz: $(FUZZBIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZBIN)

.PHONY: fuzz
-include $(FUZZOBJ:.o=.d) $(FUZZBIN:=.d)

# Document tests (SPEC 12, `make doctest`): tests/doc/mkdocs.c writes
# sample invoices, credit notes and corrected invoices; tests/doc/check.sh
# checks each UBL file with xmllint against the EN 16931 / Peppol rules
# settle relies on, and renders each HTML page with headless chromium
# (PDF, text, screenshots in build/doc-samples/). Installs its tools with
# scripts/install-doc-deps.sh when missing; not part of `make test`.
build/mkdocs: tests/doc/mkdocs.c $(LIBOBJ) | deps
	@echo "  CCLD    $@"
	@$(CC) $(ALLCFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

doctest: build/mkdocs
	@sh scripts/install-doc-deps.sh
	@sh tests/doc/check.sh build/mkdocs build/doc-samples

.PHONY: doctest
-include build/mkdocs.d
