# SPDX-License-Identifier: ISC
# libFuzzer targets for vnet (doc/FUZZING.md). Included by GNUmakefile,
# so every path is relative to the top of the tree.
#
#   make fuzz                    build fuzz/build/TARGET for every target
#   make fuzz-run SECONDS=N      fuzz each target for N seconds (default 60)
#   make fuzz-check              replay corpus + regressions, ~20 s each
#   make fuzz-merge              fold new inputs from fuzz-run into the corpus
#   make fuzz-cov                line coverage of the daemon code by the corpora
#   make fuzz-clean              remove fuzz/build
#
# FUZZ_TARGETS="frame wire" limits any of these to some targets;
# FUZZ_NICE (default 19) is the niceness the fuzzers run at.

FUZZ_TARGETS	?= frame offload wire msg conf mac ctlreq ring fwd l2pol dgram mss tcpmerge
FUZZ_B		:= fuzz/build
FUZZ_CC		?= clang
FUZZ_NICE	?= 19
FUZZ_CHECK_SECONDS ?= 20

FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	:= -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fno-omit-frame-pointer \
		   $(FUZZ_SAN)
FUZZ_WARN	:= -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
		   -Wmissing-prototypes -Wformat=2 -Werror

# The daemon's own sources, built again with coverage instrumentation.
FUZZ_LIB_SRCS	:= $(wildcard lib/*.c) privsep/msg.c privsep/msgtab.c privsep/ring.c \
		   privsep/log.c
FUZZ_LIB_OBJS	:= $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_LIB	:= $(FUZZ_B)/libvnet-fuzz.a
FUZZ_HDRS	:= $(wildcard lib/*.h privsep/*.h fuzz/*.h) crypt/crypt.h
FUZZ_BINS	:= $(addprefix $(FUZZ_B)/,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-run fuzz-check fuzz-merge fuzz-clean fuzz-deps

# clang and the libFuzzer runtime (Debian 12: clang-14, libclang-rt-14-dev).
fuzz-deps:
	@sh scripts/deps.sh clang libclang-rt-14-dev llvm

fuzz: $(FUZZ_BINS)
$(FUZZ_LIB_OBJS) $(FUZZ_BINS) $(FUZZ_B)/mkseeds: | fuzz-deps

$(FUZZ_B)/obj/%.o: %.c $(FUZZ_HDRS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@; ar rcs $@ $^

# Targets whose code needs more than libc.
FUZZ_LIBS_dgram	= $(call pc,libs,libcrypto)

$(FUZZ_BINS): $(FUZZ_B)/%: fuzz/%.c $(FUZZ_LIB) $(FUZZ_HDRS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(FUZZ_LIBS_$*)

# Seed generator for the wire and msg corpora (fuzz/mkcorpus.sh), plain cc.
$(FUZZ_B)/mkseeds: fuzz/mkseeds.c lib/wire.c lib/logsafe.c privsep/msg.c $(FUZZ_HDRS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $@"; $(CC) -std=gnu11 -D_GNU_SOURCE -I. -O1 -g -Wall -Wextra -Werror -o $@ fuzz/mkseeds.c lib/wire.c lib/logsafe.c privsep/msg.c

fuzz-run: fuzz
	@FUZZ_NICE=$(FUZZ_NICE) bash fuzz/run.sh run "$(or $(SECONDS),60)" $(FUZZ_TARGETS)

fuzz-check: fuzz
	@FUZZ_NICE=$(FUZZ_NICE) bash fuzz/run.sh check "$(FUZZ_CHECK_SECONDS)" $(FUZZ_TARGETS)

fuzz-merge: fuzz
	@FUZZ_NICE=$(FUZZ_NICE) bash fuzz/run.sh merge 0 $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_B)

# Line and region coverage of lib/ and privsep/ by the corpora (llvm-cov).
.PHONY: fuzz-cov
fuzz-cov: | fuzz-deps
	@bash fuzz/coverage.sh $(FUZZ_TARGETS)
