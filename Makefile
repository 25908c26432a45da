# ember — build with `make`, test with `make test`, demo with `make demo`.
# Only libc, libm and pthreads are linked. `make CC=clang` works too.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) -g -Wall -Wextra -D_GNU_SOURCE -MMD -MP \
           -Isrc -Iquant -Imodels -Ibackends -Ibackends/cpu -Itools
LDLIBS  += -lm -lpthread

SRCS     := $(wildcard src/*.c quant/*.c models/*.c backends/cpu/*.c tools/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS     := $(patsubst %.c,$(BUILD)/%.o,$(SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all test demo clean tests

all: ember

ember: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

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
	rm -rf build ember

-include $(OBJS:.o=.d) $(TEST_BINS:=.d)
