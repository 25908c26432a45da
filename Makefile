# ember — build with `make`, test with `make test`, demo with `make demo`.
# Only libc, libm and pthreads are linked (`make BLAS=1` adds OpenBLAS, in
# build-blas/). `make CC=clang` works too.

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
# VULKAN=1 adds the Vulkan backend (backends/vulkan/, libvulkan, shaders
# compiled by glslc into the build dir) in its own build dir, so the
# default objects and ./ember are never rebuilt without it.
VULKAN ?=
ifeq ($(VULKAN),1)
  BUILD   := build-vulkan
  BIN     := $(BUILD)/ember
  CFLAGS  += -DEMBER_VULKAN=1 -Ibackends/vulkan -I$(BUILD)/shaders
  LDLIBS  += -lvulkan
  VK_SRCS := $(wildcard backends/vulkan/*.c)
endif
OPT     ?= -O2
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) -g -Wall -Wextra -D_GNU_SOURCE -MMD -MP \
           $(INC)
LDLIBS  += -lm -lpthread
# make CUDA=1: the CUDA backend too (backends/cuda/), into its own build dir
# with its own binary. Its host code is C11 like the rest; nvcc compiles
# only the .cu kernels, for each compute capability in CUDA_ARCH (a fat
# binary, plus PTX of the last one so newer GPUs can JIT it). The runtime
# is linked statically, so the binary starts where there is no driver.
CUDA      ?= 0
ifeq ($(CUDA),1)
  NVCC      ?= $(or $(shell command -v nvcc 2>/dev/null),/usr/local/cuda/bin/nvcc)
  CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
  CUDA_ARCH ?= 80 89 90
  BUILD     := build-cuda
  BIN       := $(BUILD)/ember
  CUDA_LAST := $(lastword $(CUDA_ARCH))
  NVCC_FLAGS := -std=c++17 -O3 -MMD -MP $(INC) -Xcompiler -fno-threadsafe-statics \
                $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
                -gencode arch=compute_$(CUDA_LAST),code=compute_$(CUDA_LAST)
  CFLAGS    += -DEMBER_CUDA=1 -isystem $(CUDA_HOME)/include
  LDLIBS    += -L$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt
  CUDA_C_SRCS := $(wildcard backends/cuda/*.c)
  CUDA_CU_SRCS := $(wildcard backends/cuda/*.cu)
  $(BUILD)/backends/cuda/cuda_backend.o: CFLAGS += -DEMBER_CUDA_ARCH='"$(CUDA_ARCH)"'
endif

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

# BLAS=1: wide F32/F16 products through OpenBLAS's cblas_sgemm
# (backends/cpu/blas.c; Debian's libopenblas-dev), objects and binary in
# build-blas/ so the default build's stay as they are. Host builds only: a
# cross build (test_aarch64.sh runs one under `make BLAS=1 test`) ignores it.
BLAS ?= 0
ifeq ($(BLAS)$(ARCH),1$(HOST_ARCH))
  BUILD   := build-blas
  BIN     := $(BUILD)/ember
  CFLAGS  += -DEMBER_BLAS=1
  LDLIBS  += -lopenblas
endif

# Per-ISA kernel files get their target flags; nothing else does, so one
# binary runs on any CPU of the architecture and picks kernels at run time.
$(BUILD)/%_avx2.o:   ISA_FLAGS := -mavx2 -mfma -mf16c
$(BUILD)/%_avx512.o: ISA_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512bf16
$(BUILD)/%_neon.o:   ISA_FLAGS := -march=armv8.2-a+dotprod+fp16
$(BUILD)/%_i8mm.o:   ISA_FLAGS := -march=armv8.2-a+dotprod+fp16+i8mm

COMMON_SRCS := $(filter-out %_x86.c %_arm.c %_avx2.c %_avx512.c %_neon.c %_i8mm.c,$(wildcard src/*/*.c quant/*.c models/*.c backends/*.c backends/cpu/*.c tools/*.c)) $(VK_SRCS)
SRCS     := $(COMMON_SRCS) $(ARCH_SRCS) $(CUDA_C_SRCS)
LIB_SRCS := $(filter-out tools/main.c,$(SRCS))
CU_OBJS  := $(patsubst %.cu,$(BUILD)/%.o,$(CUDA_CU_SRCS))
OBJS     := $(patsubst %.c,$(BUILD)/%.o,$(SRCS)) $(CU_OBJS)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) $(CU_OBJS)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all test demo clean tests lib sanitize lint lint-vulkan lint-cuda cuda-emu fuzz fuzz-long fuzz-build bench-kernels gptq-logits

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

$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(call say,NVCC,$@)$(NVCC) $(NVCC_FLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(LIB_OBJS) $(LDLIBS)

# Vulkan shaders: each .comp to SPIR-V as a C initializer (glslc -mfmt=c, NAME.spv.h)
# that vk_pipelines.c includes; matmul and get_rows once per weight type.
VK_TYPES   := f32 f16 q8_0 q4_0 q4_k q6_k
VK_PLAIN   := rmsnorm rope softmax silu_mul add store_kv attention gelu_mul scale gather scatter_add
VK_SHADERS := $(patsubst %,$(BUILD)/shaders/matmul_%.spv.h,$(VK_TYPES)) \
              $(patsubst %,$(BUILD)/shaders/matmul_sg_%.spv.h,$(VK_TYPES)) \
              $(patsubst %,$(BUILD)/shaders/get_rows_%.spv.h,$(VK_TYPES)) \
              $(patsubst %,$(BUILD)/shaders/%.spv.h,$(VK_PLAIN))
VK_GLSL    := $(wildcard backends/vulkan/shaders/*.glsl)
GLSLC      ?= glslc
GLSLC_FLAGS := -fshader-stage=compute --target-env=vulkan1.1 -O -mfmt=c
$(BUILD)/shaders/matmul_sg_%.spv.h: backends/vulkan/shaders/matmul.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(call say,GLSL,$@)$(GLSLC) $(GLSLC_FLAGS) -DSUBGROUP -DTYPE_$* -o $@ $<
$(BUILD)/shaders/matmul_%.spv.h: backends/vulkan/shaders/matmul.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(call say,GLSL,$@)$(GLSLC) $(GLSLC_FLAGS) -DTYPE_$* -o $@ $<
$(BUILD)/shaders/get_rows_%.spv.h: backends/vulkan/shaders/get_rows.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(call say,GLSL,$@)$(GLSLC) $(GLSLC_FLAGS) -DTYPE_$* -o $@ $<
$(BUILD)/shaders/%.spv.h: backends/vulkan/shaders/%.comp $(VK_GLSL)
	@mkdir -p $(dir $@)
	$(call say,GLSL,$@)$(GLSLC) $(GLSLC_FLAGS) -o $@ $<
$(BUILD)/backends/vulkan/vk_pipelines.o: $(VK_SHADERS)

# Helpers the shell tests run (not tests themselves, so not named test_*).
HELPER_BINS := $(BUILD)/tests/run_hostile
$(BUILD)/tests/run_hostile: tests/hostile/run_hostile.c
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $<

tests: $(TEST_BINS) $(HELPER_BINS)
lib: $(LIB_OBJS)

# Runs every C test binary and every tests/test_*.sh; last line "N passed, N failed".
test: ember tests
	@EMBER=./$(BIN) TEST_BIN=$(BUILD)/tests bash tests/run.sh

# Kernel throughput per type for the chosen set (EMBER_ISA=...), one thread.
bench-kernels: $(BUILD)/bench-kernels
$(BUILD)/bench-kernels: scripts/bench-kernels.c $(LIB_OBJS)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# ember's logits for scripts/gptq-real-check.sh (torch-side cross-check, not in make test).
gptq-logits: $(BUILD)/gptq-logits
$(BUILD)/gptq-logits: scripts/gptq-logits.c $(LIB_OBJS)
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
# The gcc -Werror build's folder and binary. CI, on a fresh clone where cc
# is gcc, passes LINT_GCC_BUILD=build LINT_GCC_BIN=ember so that `make
# test` afterwards reuses those objects (-Werror changes no code) instead
# of compiling everything a third time.
LINT_GCC_BUILD ?= build-lint-gcc
LINT_GCC_BIN   ?= $(LINT_GCC_BUILD)/ember
lint:
	bash scripts/check-layout.sh
	$(MAKE) -j$(JOBS) CC=gcc BUILD=$(LINT_GCC_BUILD) BIN=$(LINT_GCC_BIN) EXTRA_CFLAGS=-Werror $(LINT_GCC_BIN) tests
	$(MAKE) -j$(JOBS) CC=clang BUILD=build-lint-clang BIN=build-lint-clang/ember EXTRA_CFLAGS=-Werror build-lint-clang/ember tests
	cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE -D__x86_64__ $(CPPCHECK_ISA) \
	  --enable=warning,portability --inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
	  $(LINT_INC) $(LINT_SRCS)
	LINT_INC="$(LINT_INC)" bash tests/lint/clang-tidy.sh $(LINT_SRCS)
	$(MAKE) lint-vulkan
	$(MAKE) lint-cuda

# make lint-vulkan: the Vulkan backend's files (and the registry and op test
# that name it) under EMBER_VULKAN=1 with gcc and clang -Werror, cppcheck and
# clang-tidy; skipped with a note where glslc or the Vulkan headers are
# missing (CI installs them).
VK_LINT_SRCS := $(wildcard backends/vulkan/*.c) backends/registry.c tests/test_backend_ops.c
VK_LINT_INC  := $(LINT_INC) -Ibackends/vulkan -Ibuild-lint-vk/shaders
lint-vulkan:
	@if ! command -v $(GLSLC) >/dev/null || [ ! -f /usr/include/vulkan/vulkan.h ]; then \
	  echo "lint-vulkan: skipped (no glslc or Vulkan headers)"; exit 0; fi; \
	set -e; \
	$(MAKE) -j$(JOBS) VULKAN=1 CC=gcc BUILD=build-lint-vk BIN=build-lint-vk/ember EXTRA_CFLAGS=-Werror build-lint-vk/ember build-lint-vk/tests/test_backend_ops; \
	$(MAKE) -j$(JOBS) VULKAN=1 CC=clang BUILD=build-lint-vk-clang BIN=build-lint-vk-clang/ember EXTRA_CFLAGS=-Werror build-lint-vk-clang/ember build-lint-vk-clang/tests/test_backend_ops; \
	cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE -D__x86_64__ -DEMBER_VULKAN=1 \
	  --enable=warning,portability --inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
	  $(VK_LINT_INC) $(VK_LINT_SRCS); \
	LINT_INC="$(VK_LINT_INC) -DEMBER_VULKAN=1" bash tests/lint/clang-tidy.sh $(VK_LINT_SRCS)

# make lint-cuda: the CUDA backend's C files (and the registry and test
# that name it) under EMBER_CUDA=1 with gcc and clang -Werror, cppcheck and
# clang-tidy; the .cu kernels are nvcc's (make CUDA=1, scripts/ci-cuda.sh).
# Skipped with a note where the CUDA headers are missing.
CUDA_INC_DIR := $(patsubst %/bin/nvcc,%,$(or $(shell command -v nvcc 2>/dev/null),/usr/local/cuda/bin/nvcc))/include
CU_LINT_SRCS := $(wildcard backends/cuda/*.c) backends/registry.c tests/test_cuda.c
CU_LINT_INC  := $(LINT_INC) -DEMBER_CUDA=1 -isystem $(CUDA_INC_DIR)
lint-cuda:
	@if [ ! -f $(CUDA_INC_DIR)/cuda_runtime_api.h ]; then \
	  echo "lint-cuda: skipped (no CUDA headers in $(CUDA_INC_DIR))"; exit 0; fi; \
	set -e; \
	for cc in gcc clang; do for f in $(CU_LINT_SRCS); do \
	  $$cc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE $(CU_LINT_INC) -c -o /dev/null $$f; done; done; \
	cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE -D__x86_64__ \
	  --enable=warning,portability --inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
	  $(CU_LINT_INC) $(CU_LINT_SRCS); \
	LINT_INC="$(CU_LINT_INC)" bash tests/lint/clang-tidy.sh $(CU_LINT_SRCS)

# make cuda-emu: the CUDA build with tests/cuda_emu/ for the CUDA Toolkit
# (a stand-in runtime and a SIMT emulator: kernels compiled as host C++,
# each GPU thread a fiber), so the kernels run on a CPU and meet
# test_backend_ops, test_cuda and whole models without a GPU (CI has none).
# Slow, and blind to races and GPU-only faults: a check, not a backend.
EMU_BUILD := build-cuda-emu
EMU_CUDA  := $(EMU_BUILD)/cuda
cuda-emu:
	@mkdir -p $(EMU_CUDA)/lib64
	ln -sfn $(CURDIR)/tests/cuda_emu/include $(EMU_CUDA)/include
	$(CC) -std=c11 -O1 -g -D_GNU_SOURCE -Wall -Wextra -Itests/cuda_emu/include -c -o $(EMU_CUDA)/emu.o tests/cuda_emu/emu.c
	rm -f $(EMU_CUDA)/lib64/libcudart_static.a && ar rcs $(EMU_CUDA)/lib64/libcudart_static.a $(EMU_CUDA)/emu.o
	$(MAKE) CUDA=1 CUDA_ARCH=emu BUILD=$(EMU_BUILD) BIN=$(EMU_BUILD)/ember CUDA_HOME=$(CURDIR)/$(EMU_CUDA) \
	  NVCC=$(CURDIR)/tests/cuda_emu/nvcc-emu $(EMU_BUILD)/ember $(EMU_BUILD)/tests/test_backend_ops \
	  $(EMU_BUILD)/tests/test_cuda

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
