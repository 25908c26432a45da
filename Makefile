# ember — build with `make`, test with `make test`, demo with `make demo`.
# Only libc, libm and pthreads are linked. `make CC=clang` works too.

CC      ?= cc

# A parallel build by default: -j from the CPU count, unless -j came on the
# command line (which always wins: make -j1) or in MAKEFLAGS from the
# environment; sub-makes share their parent's jobs. One line per step
# ("  CC   build/src/core/ember.o"); make V=1 shows the full commands.
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
ifeq ($(MAKELEVEL),0)
  ifeq ($(filter -j% j%,$(shell printenv MAKEFLAGS)),)
    MAKEFLAGS += -j$(JOBS)
  endif
endif
# `make clean all` must not build while it deletes.
ifneq ($(filter clean,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif
V       ?= 0
ifeq ($(V),0)
  say = @printf '  %-4s %s\n' $(1) $(2);
endif
# The floors, top to bottom (ARCHITECTURE.md): tools -> models -> backends ->
# src -> quant. Headers are found by name across them; scripts/check-layout.sh
# checks that includes only run downward.
INC     := -Itools -Imodels -Ibackends -Ibackends/cpu -Isrc/core -Isrc/format -Isrc/text \
           -Isrc/kv -Iquant
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) -g -Wall -Wextra -D_GNU_SOURCE -MMD -MP \
           $(INC)
LDLIBS  += -lm -lpthread
# Extra flags for every object and link (make sanitize / lint / fuzz set them).
EXTRA_CFLAGS ?=
CFLAGS  += $(EXTRA_CFLAGS)

# ARCH=aarch64 on an x86 host cross-builds (static, runs under qemu-aarch64).
HOST_ARCH := $(shell uname -m)
ARCH    ?= $(HOST_ARCH)
ifeq ($(ARCH),aarch64)
  ifneq ($(HOST_ARCH),aarch64)
    CC      := aarch64-linux-gnu-gcc
    LDFLAGS += -static
    BUILD   := build-aarch64
    # the cross binary goes into its build dir so it never clobbers ./ember
    BIN     := $(BUILD)/ember
  endif
  ARCH_SRCS := $(wildcard backends/cpu/*_arm.c backends/cpu/*_neon.c backends/cpu/arm/*.c)
else
  ARCH_SRCS := $(wildcard backends/cpu/*_x86.c backends/cpu/*_avx2.c backends/cpu/*_avx512.c backends/cpu/x86/*.c)
endif

# Per-ISA kernel files get their target flags; nothing else does, so one
# binary runs on any CPU of the architecture and picks kernels at run time.
$(BUILD)/%_avx2.o:   ISA_FLAGS := -mavx2 -mfma -mf16c
$(BUILD)/%_avx512.o: ISA_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512bf16
$(BUILD)/%_neon.o:   ISA_FLAGS := -march=armv8.2-a+dotprod+fp16
$(BUILD)/%_i8mm.o:   ISA_FLAGS := -march=armv8.2-a+dotprod+fp16+i8mm

COMMON_SRCS := $(filter-out %_x86.c %_arm.c %_avx2.c %_avx512.c %_neon.c %_i8mm.c,$(wildcard src/*/*.c quant/*.c models/*.c backends/*.c backends/cpu/*.c tools/*.c))
SRCS     := $(COMMON_SRCS) $(ARCH_SRCS)
LIB_SRCS := $(filter-out tools/main.c,$(SRCS))
OBJS     := $(patsubst %.c,$(BUILD)/%.o,$(SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all test demo clean tests lib sanitize lint fuzz fuzz-long fuzz-build bench-kernels

BIN     ?= ember

all: $(BIN)

$(BIN): $(OBJS)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ifneq ($(BIN),ember)
.PHONY: ember
ember: $(BIN)
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(CFLAGS) $(ISA_FLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(LIB_OBJS) $(LDLIBS)

# Helpers the shell tests run (not tests themselves, so not named test_*).
HELPER_BINS := $(BUILD)/tests/run_hostile
$(BUILD)/tests/run_hostile: tests/hostile/run_hostile.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $<

tests: $(TEST_BINS) $(HELPER_BINS)
lib: $(LIB_OBJS)

# Runs every C test binary and every tests/test_*.sh; last line "N passed, N failed".
test: ember tests
	@EMBER=./ember TEST_BIN=$(BUILD)/tests bash tests/run.sh

# Kernel throughput per type for the chosen set (EMBER_ISA=...), one thread.
bench-kernels: $(BUILD)/bench-kernels
$(BUILD)/bench-kernels: scripts/bench-kernels.c $(LIB_OBJS)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# The prompt, then the story up to its first sentence end (-r .) or 200
# tokens, then a newline (--echo; `ember run` alone prints only new text).
demo: ember
	@./ember run -m tests/data/models/stories260K.gguf -p "Once upon a time" -n 200 --temp 0.8 -s 42 \
	  --echo -r .

clean:
	rm -rf build build-* ember

# ---------------------------------------------------------------- hardening
# make sanitize: ember and every test built with ASan + UBSan into
# $(SAN_BUILD), then the whole suite through the same tests/run.sh. Reports
# abort the process (exit 86) and are also logged under $(SAN_BUILD)/reports;
# any report fails the target even if a test tolerated the exit status.
SAN_BUILD ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_OPTS  := halt_on_error=1:exitcode=86:log_path=$(CURDIR)/$(SAN_BUILD)/reports/report
sanitize:
	$(MAKE) -j$(JOBS) BUILD=$(SAN_BUILD) BIN=$(SAN_BUILD)/ember OPT=-O1 EXTRA_CFLAGS="$(SAN_FLAGS)" $(SAN_BUILD)/ember tests
	@rm -rf $(SAN_BUILD)/reports; mkdir -p $(SAN_BUILD)/reports
	@env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL EMBER_SANITIZE=1 \
	  ASAN_OPTIONS=$(SAN_OPTS):detect_leaks=1 UBSAN_OPTIONS=$(SAN_OPTS):print_stacktrace=1 \
	  EMBER=$(SAN_BUILD)/ember TEST_BIN=$(SAN_BUILD)/tests bash tests/run.sh; rc=$$?; \
	if ls $(SAN_BUILD)/reports/report* >/dev/null 2>&1; then \
	  echo "sanitizer reports:"; head -n 40 $(SAN_BUILD)/reports/report*; exit 1; fi; exit $$rc

# make lint: the floors (scripts/check-layout.sh: includes run downward,
# getenv only in tools/), -Wall -Wextra -Werror with gcc and clang, then cppcheck and
# clang-tidy (checks and suppressions, each with its reason, in .clang-tidy
# and tests/lint/cppcheck.supp). About 10 minutes on 2 cores, mostly tidy.
LINT_SRCS := $(SRCS) $(TEST_SRCS) $(wildcard tests/fuzz/*.c tests/hostile/*.c)
LINT_INC  := $(INC) -Itests
# The per-ISA kernel files expand their slot macros only under the ISA's
# predefined macros (as the compiler sees them with -mavx2 ... -mavx512vnni),
# so cppcheck checks that configuration; without it they are unknown macros.
CPPCHECK_ISA := -D__AVX2__ -D__FMA__ -D__F16C__ -D__AVX512F__ -D__AVX512BW__ -D__AVX512VL__ \
                -D__AVX512VNNI__ -D__AVX512BF16__
lint:
	bash scripts/check-layout.sh
	$(MAKE) -j$(JOBS) CC=gcc BUILD=build-lint-gcc BIN=build-lint-gcc/ember EXTRA_CFLAGS=-Werror build-lint-gcc/ember tests
	$(MAKE) -j$(JOBS) CC=clang BUILD=build-lint-clang BIN=build-lint-clang/ember EXTRA_CFLAGS=-Werror build-lint-clang/ember tests
	cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE -D__x86_64__ $(CPPCHECK_ISA) \
	  --enable=warning,portability --inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
	  $(LINT_INC) $(LINT_SRCS)
	LINT_INC="$(LINT_INC)" bash tests/lint/clang-tidy.sh $(LINT_SRCS)

# make fuzz: each libFuzzer harness in tests/fuzz/ for FUZZ_SECONDS (60) with
# clang; make fuzz-long SECONDS=N for longer runs. A crash leaves its input in
# $(FUZZ_BUILD)/artifacts/; copy it into tests/fuzz/regressions/<harness>/.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) -j$(JOBS) CC=clang BUILD=$(FUZZ_BUILD) EXTRA_CFLAGS="$(FUZZ_LIB_FLAGS)" \
	  $(patsubst %,$(FUZZ_BUILD)/fuzz/fuzz_%,$(FUZZ_HARNESSES))
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) -Itests -fsanitize=fuzzer -o $@ $< $(LIB_OBJS) $(LDLIBS)
fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_HARNESSES)
fuzz-long: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh $(or $(SECONDS),600) $(FUZZ_HARNESSES)

-include $(OBJS:.o=.d) $(TEST_BINS:=.d) $(HELPER_BINS:=.d)
