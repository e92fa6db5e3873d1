# Civic311 build. Two builds side by side:
#   build/civic311        release (-O2), what `make run` serves
#   build/asan/civic311   ASan+UBSan, what `make test` tests
# Every src/**/*.c but src/cli/main.c goes into a static library per build,
# so unit tests and fuzzers link exactly the code the server runs.

CC      ?= cc
PKGS    := libmicrohttpd jansson sqlite3 libsodium expat vips geos libcrypto libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wno-format-nonliteral
BASE    := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -Ibuild/gen \
           $(WARN) $(PKG_CFLAGS) -pthread -MMD -MP
REL_CFLAGS  := $(BASE) -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ASAN_CFLAGS := $(BASE) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all -DCIVIC311_TEST_BUILD
LIBS    := $(PKG_LIBS) -pthread -lm

SRC      := $(sort $(shell find src -name '*.c'))
LIB_SRC  := $(filter-out src/cli/main.c,$(SRC))
GEN_SRC  := build/gen/demo_catalog.c build/gen/demo_catalog_po.c build/gen/i18n_po.c \
            build/gen/web_assets.c
PO       := $(sort $(wildcard po/*.po))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

REL_OBJ  := $(LIB_SRC:%.c=build/rel/%.o) $(GEN_SRC:build/gen/%.c=build/rel/gen/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=build/asan/obj/%.o) $(GEN_SRC:build/gen/%.c=build/asan/obj/gen/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=build/asan/tests/%)
REPLAYS  := $(FUZZ_SRC:fuzz/%.c=build/asan/fuzz/%)

.PHONY: all run test unit fuzz-replay api-test fuzz bench deps deps-test clean format

all: build/civic311

# ---- the two set-up commands of the README ----

run: deps build/civic311
	@if [ ! -f var/demo/civic311.db ]; then ./build/civic311 init --data var/demo --demo; \
	 elif [ ! -f var/demo/keys/civic311.keys ]; then ./build/civic311 keys init --data var/demo; fi
	./build/civic311 serve --data var/demo --listen 127.0.0.1:8311

test: deps-test
	$(MAKE) --no-print-directory build/civic311 build/asan/civic311 $(TESTS) $(REPLAYS)
	$(MAKE) --no-print-directory unit fuzz-replay api-test web-test

deps:
	@scripts/install-deps run
deps-test:
	@scripts/install-deps test

# ---- builds ----

build/gen/demo_catalog.c: data/demo/catalog.json build/embed
	@mkdir -p $(@D)
	build/embed demo_catalog_json < $< > $@

# The demo catalog's Spanish (src/web/web_catalog_i18n.c), checked first.
build/gen/demo_catalog_po.c: data/demo/catalog-es.po build/embed
	@mkdir -p $(@D)
	msgfmt --check -o /dev/null $<
	build/embed demo_catalog_po_es < $< > $@

# The website's stylesheet and script, served from the binary (web.c).
build/gen/web_assets.c: assets/site.css assets/site.js build/embed
	@mkdir -p $(@D)
	{ build/embed web_site_css < assets/site.css && \
	  build/embed web_site_js < assets/site.js; } > $@.tmp && mv $@.tmp $@

# The website's message catalogs (src/web/i18n.h), checked by msgfmt first.
build/gen/i18n_po.c: $(PO) build/embed scripts/embed-po
	@mkdir -p $(@D)
	@for f in $(PO); do msgfmt --check -o /dev/null $$f || exit 1; done
	scripts/embed-po build/embed $(PO) > $@

build/embed: scripts/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -O1 -Wall -Wextra -Werror -o $@ $<

build/rel/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -c -o $@ $<
build/rel/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -c -o $@ $<
build/rel/libcivic.a: $(REL_OBJ)
	rm -f $@ && ar rcs $@ $^
build/civic311: build/rel/src/cli/main.o build/rel/libcivic.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

build/asan/obj/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<
build/asan/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<
build/asan/libcivic.a: $(ASAN_OBJ)
	rm -f $@ && ar rcs $@ $^
build/asan/civic311: build/asan/obj/src/cli/main.o build/asan/libcivic.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

build/asan/tests/%: tests/unit/%.c tests/unit/testlib.h build/asan/libcivic.a
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -Itests/unit -o $@ $< build/asan/libcivic.a $(LIBS)

# Each fuzz target, built with a small driver that replays its corpus.
build/asan/fuzz/%: fuzz/%.c fuzz/fuzz.h fuzz/replay.c build/asan/libcivic.a
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -o $@ $< fuzz/replay.c build/asan/libcivic.a $(LIBS)

# ---- tests ----

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t; done

fuzz-replay: $(REPLAYS)
	@set -e; for f in $(REPLAYS); do n=$$(basename $$f); \
	  echo "== replay $$n"; $$f fuzz/corpus/$${n#fuzz_}; done

# The photo tests upload photos build/asan/tests/test_photo writes.
api-test: build/asan/civic311 build/asan/tests/test_photo
	python3 tests/api/run.py --binary build/asan/civic311

# The browser tests (tests/web): Debian's Chromium driven by playwright-core.
# npm ci only when node_modules is missing or older than the lock file.
.PHONY: web-test
web-test: build/asan/civic311 build/asan/tests/test_photo
	@if [ ! -f tests/web/node_modules/.package-lock.json ] || \
	    [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then \
	  echo "npm ci --prefix tests/web --no-audit --no-fund"; \
	  npm ci --prefix tests/web --no-audit --no-fund || exit 1; fi
	node tests/web/run.mjs --binary build/asan/civic311

# ---- fuzzing for a set time (FUZZ_SECONDS each), with libFuzzer ----

FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := $(BASE) -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
fuzz: deps-test
	@command -v clang >/dev/null || { echo "fuzz: clang missing"; exit 1; }
	@set -e; for src in $(FUZZ_SRC); do n=$$(basename $$src .c); \
	  mkdir -p build/fuzz/obj build/fuzz/corpus/$${n#fuzz_}; \
	  clang $(FUZZ_CFLAGS) -o build/fuzz/$$n $$src $(LIB_SRC) $(GEN_SRC) $(LIBS); \
	  echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
	  build/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    build/fuzz/corpus/$${n#fuzz_} fuzz/corpus/$${n#fuzz_}; done

# bench/privacy's in-process gatekeeper benchmark, against the release library.
build/bench/gate_bench: bench/gate_bench.c build/rel/libcivic.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $< build/rel/libcivic.a $(LIBS)

bench: deps
	scripts/install-deps bench
	$(MAKE) --no-print-directory build/civic311
	bench/run

# Extracts every message marked I18N_("...") into the template
# po/civic311.pot and merges it into each po/LANG.po (new messages arrive
# untranslated, gone ones become obsolete "#~" comments). Phony (po/ is a
# directory, so without it make would find the target up to date).
.PHONY: po
po:
	xgettext --language=C --keyword=I18N_ --from-code=UTF-8 --add-comments=TRANSLATORS: \
	  --package-name=Civic311 -o po/civic311.pot $(SRC)
	@set -e; for f in $(PO); do echo "msgmerge $$f"; \
	  msgmerge --quiet --update --backup=none $$f po/civic311.pot; done

format:
	clang-format -i $(SRC) $(wildcard src/*/*.h) $(TEST_SRC) $(FUZZ_SRC)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
