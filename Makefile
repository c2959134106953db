# Thin wrapper around meson. `make run` and `make test` install missing
# Debian packages first when run as root.
BUILD      ?= build
BUILD_ASAN ?= build-asan
MESON      ?= meson
DESTDIR_TEST = $(abspath $(BUILD))/stage

.PHONY: all deps build run test test-asan test-valgrind bench install clean example fuzz

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	@scripts/install-deps.sh
	$(MESON) setup $(BUILD) -Dwerror=true

build: $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

run: build
	@mkdir -p out
	$(BUILD)/galley run pipelines/default.pipeline
	@echo "output: out/articles.jsonl  stats: out/default.stats.json"

# The out-of-tree example plugin, built against the installed headers and
# galley-1.pc of a staged install.
example: build
	rm -rf $(DESTDIR_TEST)
	DESTDIR=$(DESTDIR_TEST) $(MESON) install -C $(BUILD) --quiet
	scripts/build-example.sh $(DESTDIR_TEST) $(BUILD)/example

test: build example
	GALLEY_EXAMPLE_PLUGIN_DIR=$(abspath $(BUILD))/example \
	  $(MESON) test -C $(BUILD) --print-errorlogs; status=$$?; \
	  python3 scripts/test-summary.py $(BUILD); exit $$status

$(BUILD_ASAN)/build.ninja:
	@scripts/install-deps.sh --sanitizers
	$(MESON) setup $(BUILD_ASAN) -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

test-asan: $(BUILD_ASAN)/build.ninja example
	$(MESON) compile -C $(BUILD_ASAN)
	GALLEY_EXAMPLE_PLUGIN_DIR=$(abspath $(BUILD))/example \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MESON) test -C $(BUILD_ASAN) --print-errorlogs --no-suite slow; status=$$?; \
	  python3 scripts/test-summary.py $(BUILD_ASAN); exit $$status

test-valgrind: build example
	@scripts/install-deps.sh --valgrind
	GALLEY_EXAMPLE_PLUGIN_DIR=$(abspath $(BUILD))/example \
	  $(MESON) test -C $(BUILD) --setup valgrind --print-errorlogs --no-suite no-valgrind --no-suite slow; status=$$?; \
	  python3 scripts/test-summary.py $(BUILD)/meson-logs/testlog-valgrind.json; exit $$status

BUILD_FUZZ   ?= build-fuzz
FUZZ_RUNS    ?= 20000
FUZZ_TARGETS ?=

$(BUILD_FUZZ)/build.ninja:
	@scripts/install-deps.sh --fuzz
	CC=clang $(MESON) setup $(BUILD_FUZZ) -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized

# Every libFuzzer target (tests/fuzz) runs FUZZ_RUNS inputs from a fixed
# seed on its corpus, so a run is repeatable (raise FUZZ_RUNS for a longer
# search; FUZZ_TARGETS="records shard" runs only those).
fuzz: $(BUILD_FUZZ)/build.ninja
	$(MESON) compile -C $(BUILD_FUZZ)
	scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_RUNS) $(FUZZ_TARGETS)

bench: build
	bench/run.sh $(BUILD)
	bench/repair/speed.sh $(BUILD)
	$(BUILD)/bench/strip-text-speed 64
	$(BUILD)/bench/strip-text-speed --check
	$(BUILD)/bench/export-sqlite-bench 200000 10
	bench/entities/speed.sh $(BUILD)
	bench/entities/bbc.sh $(BUILD)
	@if [ -d ../shared/bench/boilerplate/html ]; then $(BUILD)/bench/strip-html-speed ../shared/bench/boilerplate/html; fi
	BENCH_FILES=$${BENCH_FILES:-100000} bench/incremental-bench.sh $(BUILD)
	BENCH_DOCS=$${BENCH_SHARD_DOCS:-200000} bench/shard-bench.sh $(BUILD)
	@if [ -f ../shared/bench/dedup/make_neardup.py ]; then BENCH_DOCS=$${BENCH_DEDUP_DOCS:-1000000} bench/dedup-bench.sh $(BUILD); fi

install: build
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) out
