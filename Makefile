# ember — build with `make`, test with `make test`, demo with `make demo`.
# Only libc, libm and pthreads are linked. `make CC=clang` works too.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) -g -Wall -Wextra -D_GNU_SOURCE -MMD -MP \
           -Isrc -Iquant -Imodels -Ibackends -Ibackends/cpu -Itools
LDLIBS  += -lm -lpthread

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
  ARCH_SRCS := $(wildcard backends/cpu/*_arm.c backends/cpu/*_neon.c quant/arm/*.c)
else
  ARCH_SRCS := $(wildcard backends/cpu/*_x86.c backends/cpu/*_avx2.c backends/cpu/*_avx512.c quant/x86/*.c)
endif

# Per-ISA kernel files get their target flags; nothing else does, so one
# binary runs on any CPU of the architecture and picks kernels at run time.
$(BUILD)/%_avx2.o:   ISA_FLAGS := -mavx2 -mfma -mf16c
$(BUILD)/%_avx512.o: ISA_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512bf16
$(BUILD)/%_neon.o:   ISA_FLAGS := -march=armv8.2-a+dotprod+fp16

COMMON_SRCS := $(filter-out %_x86.c %_arm.c %_avx2.c %_avx512.c %_neon.c,$(wildcard src/*.c quant/*.c models/*.c backends/cpu/*.c tools/*.c))
SRCS     := $(COMMON_SRCS) $(ARCH_SRCS)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS     := $(patsubst %.c,$(BUILD)/%.o,$(SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all test demo clean tests

BIN     ?= ember

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ifneq ($(BIN),ember)
.PHONY: ember
ember: $(BIN)
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_FLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB_OBJS) $(LDLIBS)

tests: $(TEST_BINS)

# Runs every C test binary and every tests/test_*.sh; last line "N passed, N failed".
test: ember tests
	@EMBER=./ember TEST_BIN=$(BUILD)/tests bash tests/run.sh

demo: ember
	./ember run -m tests/data/models/stories260K.gguf -p "Once upon a time" -n 200 --temp 0.8 -s 42

clean:
	rm -rf build build-* ember

-include $(OBJS:.o=.d) $(TEST_BINS:=.d)
