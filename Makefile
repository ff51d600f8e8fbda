# dai: build, test and install rules.
#
#   make            build every tool into bin/
#   make check      build and run all unit and CLI tests (closing line: N passed, N failed)
#   make SAN=1 check   the same under ASan+UBSan (objects in build/san/)
#   make fuzz       build the libFuzzer harnesses with clang (build/fuzz/)
#   make bench      speed of dai-infer on generated models (LLAMA_BENCH=path: against llama.cpp)
#   make deps       install the Debian packages dai needs, and solc and anvil from npm
#   make contracts  rebuild contracts/DaiEscrow.bin and .abi with solc from npm
#   make install PREFIX=/usr/local

PREFIX  ?= /usr/local
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
FUZZCC  ?= clang
PKGS    := libsodium libarchive zlib libsecp256k1 libcurl

WARN    := -Wall -Wextra -Werror
STD     := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64
OPT     ?= -O2 -g
CFLAGS_ALL = $(STD) $(OPT) $(WARN) -ffp-contract=off -pthread -Isrc/lib $(DEP_CFLAGS) $(EXTRA_CFLAGS)

ifeq ($(SAN),1)
B       := build/san
BIN     := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B       := build/rel
BIN     := bin
SANFLAGS :=
endif

DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

LIB_SRC   := $(sort $(wildcard src/lib/*.c src/lib/kern/*.c))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(B)/%.o)
TOOL_SRC  := $(sort $(wildcard src/dai-*.c))
TOOLS     := $(TOOL_SRC:src/%.c=$(BIN)/%)
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ  := $(UNIT_SRC:tests/%.c=$(B)/tests/%.o)
# test-side code shared by the unit tests, mkgguf and the benchmarks
TTOOL_SRC := $(sort $(filter-out tests/tools/mkgguf.c,$(wildcard tests/tools/*.c)))
TTOOL_OBJ := $(TTOOL_SRC:tests/%.c=$(B)/tests/%.o)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/%)
MAN1      := $(sort $(wildcard man/*.1))
MAN5      := $(sort $(wildcard man/*.5))
MAN7      := $(sort $(wildcard man/*.7))

# Kernels for an instruction-set extension are compiled with its flags; the
# library picks one at run time from CPUID, so the binary still runs anywhere.
AVX2FLAGS := -mavx2 -mfma -mf16c
AVX512FLAGS := $(AVX2FLAGS) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
# the quant table also needs VBMI (vpermb), which some AVX-512 CPUs lack: only
# that file may use it, so that the other AVX-512 kernels run on those CPUs
AVX512VBMIFLAGS := $(AVX512FLAGS) -mavx512vbmi
# the flags of a kernel file, from its name (kern_avx2.c, kern_avx512.c, ...)
ISAFLAGS = $(if $(findstring _avx2,$(1)),$(AVX2FLAGS))$(if $(findstring quant_avx512,$(1)),$(AVX512VBMIFLAGS),$(if $(findstring _avx512,$(1)),$(AVX512FLAGS)))

.PHONY: unicode-tab all check unit cli fuzz fuzz-run deps npm-deps contracts install uninstall clean format demo bench bench-prove
.DEFAULT_GOAL := all
.SECONDARY:

all: $(TOOLS)

$(B)/.deps-ok: mk/checkdeps.sh
	@sh mk/checkdeps.sh build
	@mkdir -p $(@D) && touch $@

$(B)/%.o: src/%.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SANFLAGS) $(call ISAFLAGS,$*) -MMD -MP -c $< -o $@

$(B)/libdai.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/dai-%: $(B)/dai-%.o $(B)/libdai.a
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -pthread -o $@ $< $(B)/libdai.a $(DEP_LIBS)

$(B)/tests/%.o: tests/%.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SANFLAGS) -Itests -MMD -MP -c $< -o $@

$(B)/unit-tests: $(UNIT_OBJ) $(TTOOL_OBJ) $(B)/libdai.a
	@sh mk/checkdeps.sh test
	$(CC) $(SANFLAGS) -pthread -o $@ $(UNIT_OBJ) $(TTOOL_OBJ) $(B)/libdai.a $(DEP_LIBS) -lcriterion

# A whole market round told as a story (MODEL=path.gguf: a real model).
# make demo CHAIN=1: the same story settled on a local anvil node (make npm-deps)
demo: $(TOOLS) $(B)/mkgguf
	@$(if $(filter-out 0,$(CHAIN)),sh mk/demo_chain.sh $(BIN) $(B)/mkgguf \
		$(NPM_DIR)/node_modules/.bin/anvil,sh mk/demo.sh $(BIN) $(B)/mkgguf)

# proofs: generation vs verification, one-step checks vs replay, sizes
bench-prove: $(B)/mkgguf $(B)/provebench
	@sh tests/bench/provebench.sh $(B)

# mkgguf: random-weight Llama GGUF models (tests/tools/llama_gen.h)
$(B)/mkgguf: $(B)/tests/tools/mkgguf.o $(TTOOL_OBJ) $(B)/libdai.a
	$(CC) $(SANFLAGS) -pthread -o $@ $< $(TTOOL_OBJ) $(B)/libdai.a $(DEP_LIBS)

# Benchmark helpers (bandwidth probe, kernel, model and proof benchmarks):
# one program per tests/bench/*.c, linked with the library.
$(BENCH_BIN): $(B)/%: $(B)/tests/bench/%.o $(B)/libdai.a
	$(CC) $(SANFLAGS) -pthread -o $@ $< $(B)/libdai.a $(DEP_LIBS)

check: $(TOOLS) $(B)/unit-tests $(B)/mkgguf
	@DAI_MKGGUF=$(B)/mkgguf sh tests/run.sh $(B)/unit-tests $(BIN)

unit: $(B)/unit-tests
	$(B)/unit-tests

cli: $(TOOLS) $(B)/mkgguf
	@DAI_MKGGUF=$(B)/mkgguf sh tests/run.sh - $(BIN)

# libFuzzer harnesses: each links the whole library built with clang.
# The AVX-512 kernels go without sanitizers here: clang 14 takes many
# minutes to instrument their inlined register tiles (2 s without), and
# they hold no parser; make SAN=1 check (gcc) runs them under ASan and
# UBSan.
FUZZFLAGS := $(STD) -O1 -g -ffp-contract=off -pthread -Isrc/lib $(DEP_CFLAGS) \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_NOSAN_FLAGS := -fno-sanitize=address,undefined
FUZZ_NOSAN = $(if $(findstring _avx512,$(1)),$(FUZZ_NOSAN_FLAGS))
build/fuzz/lib/%.o: src/%.c | $(B)/.deps-ok
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) $(call FUZZ_NOSAN,$*) -fsanitize=fuzzer-no-link $(call ISAFLAGS,$*) \
		-c $< -o $@
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC:src/%.c=build/fuzz/lib/%.o)
	@sh mk/checkdeps.sh fuzz
	$(FUZZCC) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB_SRC:src/%.c=build/fuzz/lib/%.o) $(DEP_LIBS)
fuzz: $(FUZZERS)

# Run every fuzzer for FUZZ_SECONDS each from its seed corpus.
FUZZ_SECONDS ?= 60
fuzz-run: $(FUZZERS)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

# Benchmark (not a test: never part of check). Models are made by mkgguf
# (tests/tools) and cached in build/bench; MKGGUF may name another generator
# with the same options, LLAMA_BENCH a llama-bench binary to compare with.
MKGGUF      ?= $(B)/mkgguf
LLAMA_BENCH ?=
bench: $(TOOLS) $(B)/membw $(B)/modelbytes $(B)/modelbench $(B)/kernbench $(B)/kquantbench \
	$(if $(wildcard tests/tools/mkgguf.c),$(B)/mkgguf)
	@MKGGUF='$(MKGGUF)' LLAMA_BENCH='$(LLAMA_BENCH)' sh tests/bench/bench.sh $(B) $(BIN)

deps:
	apt-get update
	apt-get install -y build-essential pkg-config libsodium-dev libarchive-dev zlib1g-dev \
		libsecp256k1-dev libcurl4-openssl-dev libcriterion-dev clang curl
	@# npm for the chain tests' tools: Debian's, unless a node with its own npm is there
	command -v npm >/dev/null 2>&1 || apt-get install -y nodejs npm || \
		echo "dai: no npm: the chain tests will be skipped" >&2
	-$(MAKE) npm-deps

# The Solidity compiler and the local EVM node of the chain tests, from npm,
# in build/npm (not committed; the tests skip with a message without them).
NPM_DIR       := build/npm
SOLC_VERSION  := 0.8.26
ANVIL_VERSION := 1.7.1
# anvil's package is for x86-64 Linux only: elsewhere solc alone is installed.
NPM_INSTALL   := npm install --no-save --no-audit --no-fund
npm-deps:
	mkdir -p $(NPM_DIR)
	cd $(NPM_DIR) && { $(NPM_INSTALL) solc@$(SOLC_VERSION) \
		@foundry-rs/anvil-linux-amd64@$(ANVIL_VERSION) || \
		{ echo "dai: no anvil for this machine: the chain tests will be skipped" >&2; \
		$(NPM_INSTALL) solc@$(SOLC_VERSION); }; }

# The compiled contract is committed beside its source; tests/cli/t_contracts.sh
# checks that it is what this compiler makes of the source.
contracts:
	@test -d $(NPM_DIR)/node_modules/solc || $(MAKE) npm-deps
	node mk/solc.js $(NPM_DIR)/node_modules contracts

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/)

uninstall:
	rm -f $(TOOL_SRC:src/%.c=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
		$(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)

# The Unicode class table of the BPE pre-tokenizers, from Debian's
# unicode-data (Unicode 15.0) and the code points Unicode 15.1 added; the
# generated file is committed, so building needs neither.
UNICODE_DATA ?= /usr/share/unicode/UnicodeData.txt
unicode-tab: mk/gen_unicode.awk mk/unicode-15.1-added.txt
	cat $(UNICODE_DATA) mk/unicode-15.1-added.txt | \
		awk '{ print substr("000000" $$0, length($$1) + 1) }' FS=';' | LC_ALL=C sort | \
		awk -v version=15.0.0 -f mk/gen_unicode.awk > src/lib/unicode_tab.c.tmp
	mv src/lib/unicode_tab.c.tmp src/lib/unicode_tab.c

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TTOOL_OBJ:.o=.d) $(B)/tests/tools/mkgguf.d \
	$(TOOL_SRC:src/%.c=$(B)/%.d) $(BENCH_SRC:tests/%.c=$(B)/tests/%.d)
