# silt — build, run, test, bench.
#
#   make              release build -> build/silt (build/release/silt)
#   make run          install dependencies, build, start `build/silt serve` on the defaults
#   make test         install test dependencies, build the asan variant, run every test
#   make bench        parser / WAL replay micro-benchmarks, then silt vs InfluxDB 1.6.7 and
#                     VictoriaMetrics with ../shared/bench/peers.sh
#   make VARIANT=debug|release|asan|fuzz    other build variants, into build/<variant>/
#   make test-unit M=wal                    the unit tests of one module
#   make fuzz [FUZZ_SECONDS=60]             run every fuzz target for a fixed time

VARIANT ?= release
# V=1 prints every command
Q := $(if $(V),,@)
BUILD := build/$(VARIANT)

CC_release := gcc
CC_debug := gcc
CC_asan := gcc
CC_fuzz := clang
CC := $(CC_$(VARIANT))

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla -Wformat=2 -Werror
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -pthread -g $(WARN) -MMD -MP -I/usr/include/postgresql
CFLAGS_release := -O2 -DNDEBUG
CFLAGS_debug := -O0 -g3 -DSILT_INJECTION
CFLAGS_asan := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -DSILT_INJECTION
CFLAGS_fuzz := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -DSILT_INJECTION -DSILT_FUZZING -Wno-unused-command-line-argument
CFLAGS := $(BASE_CFLAGS) $(CFLAGS_$(VARIANT)) $(EXTRA_CFLAGS)

LDFLAGS_asan := -fsanitize=address,undefined
LDFLAGS_fuzz := -fsanitize=address,undefined
LDFLAGS := -pthread $(LDFLAGS_$(VARIANT))
LIBS := -lmicrohttpd -lnghttp2 -lcurl -lz -lzstd -lsnappy -lxxhash -ljansson -lsqlite3 -lpq -lm

# every module's sources; main.c is the program, the rest is libsilt.a
MODULES := util conf lp schema ingest wal buffer parquet objstore catalog query store jobs server cli
LIB_SRC := $(foreach m,$(MODULES),$(wildcard src/$(m)/*.c src/$(m)/*/*.c))
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
LIB := $(BUILD)/libsilt.a
BIN := $(BUILD)/silt

UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
UNIT_SUPPORT := $(wildcard tests/unit/support/*.c)

FUZZ_SRC := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/fuzz/%,$(FUZZ_SRC))

BENCH_SRC := $(wildcard bench/*_bench.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all run test test-unit test-e2e test-crash test-fuzz fuzz bench bench-micro deps \
        test-deps clean docs format check-format

all: $(BIN)
ifeq ($(VARIANT),release)
all: build/silt
build/silt: $(BIN)
	ln -sf release/silt build/silt
endif

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
	@[ -z "$(Q)" ] || echo "  CC      $<"


$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): src/main.c $(LIB)
	@mkdir -p $(dir $@)
	@[ -z "$(Q)" ] || echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ src/main.c $(LIB) $(LDFLAGS) $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(UNIT_SUPPORT) $(LIB)
	@mkdir -p $(dir $@)
	@[ -z "$(Q)" ] || echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -Isrc -Itests/unit -o $@ $< $(UNIT_SUPPORT) $(LIB) $(LDFLAGS) $(LIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@[ -z "$(Q)" ] || echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB) $(LDFLAGS) $(LIBS)

.PHONY: fuzz-lib
fuzz-lib:
	@$(MAKE) --no-print-directory VARIANT=fuzz build/fuzz/libsilt.a

build/fuzz/fuzz/%: tests/fuzz/%.c fuzz-lib
	@mkdir -p $(dir $@)
	@[ -z "$(Q)" ] || echo "  FUZZ    $@"
	$(Q)clang $(BASE_CFLAGS) $(CFLAGS_fuzz) -fsanitize=fuzzer -Isrc -o $@ $< build/fuzz/libsilt.a \
	    -fsanitize=fuzzer,address,undefined $(LIBS)

-include $(LIB_OBJ:.o=.d)

# ------------------------------------------------------------------ set-up and running

deps:
	@bash mk/deps.sh build

test-deps:
	@bash mk/deps.sh test

run: deps
	$(MAKE) VARIANT=release all
	build/silt serve

# ------------------------------------------------------------------ tests

# `make test` is what CI runs (.ci/run): unit tests under ASan+UBSan, then the end-to-end
# and crash suites against the asan binary in both storage configurations (embedded: file
# object store + SQLite; distributed: Ceph RGW + PostgreSQL), then the fuzz corpora as
# regression tests. mk/with-servers.sh starts PostgreSQL and the S3 server on 127.0.0.1 for
# the duration and stops them.
test: test-deps
	$(MAKE) VARIANT=asan build-tests
	bash mk/with-servers.sh $(MAKE) --no-print-directory VARIANT=asan test-unit test-e2e-all
	$(MAKE) test-fuzz
	@echo "make test: all passed"

.PHONY: test-e2e-all
test-e2e-all: $(BIN)
	@echo "== end-to-end, embedded storage (file + SQLite)"
	SILT_E2E_CONFIG=embedded $(MAKE) --no-print-directory test-e2e
	@echo "== end-to-end, distributed storage (S3 + PostgreSQL)"
	SILT_E2E_CONFIG=distributed $(MAKE) --no-print-directory test-e2e

.PHONY: build-tests
build-tests: $(BIN) $(UNIT_BIN)

test-unit: $(UNIT_BIN)
	@bash mk/run-unit.sh $(BUILD) $(M)

test-e2e: $(BIN)
	cd tests/e2e && SILT_BIN=$(abspath $(BIN)) SILT_ROOT=$(abspath .) \
	    node --test --test-concurrency=1 $(E2E_FILTER)

test-fuzz: $(FUZZ_BIN)
	@bash mk/run-fuzz.sh replay $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@bash mk/run-fuzz.sh run $(FUZZ_BIN)

# ------------------------------------------------------------------ benchmarks

bench-micro: $(BENCH_BIN)
	@bash mk/bench-micro.sh $(BUILD)

bench: deps
	$(MAKE) VARIANT=release all
	$(MAKE) VARIANT=release bench-micro
	bash mk/bench-peers.sh
	bash mk/bench-queries.sh

# ------------------------------------------------------------------ housekeeping

docs: $(BIN)
	$(BIN) config-doc > docs/config.md

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

check-format:
	@clang-format --dry-run --Werror $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

clean:
	rm -rf build
