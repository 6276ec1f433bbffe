# SPDX-License-Identifier: Apache-2.0
# libFuzzer harnesses (GNU make). Not used directly: `make fuzz` and
# `make fuzz-run FUZZ_SECONDS=N` in the build folder call this file with the
# configured paths and flags (Makefile.am, section "fuzzing").
#
# The library sources are compiled a second time, by clang, with coverage
# instrumentation and ASan+UBSan, into fuzz/obj/; each fuzz/fuzz_TARGET.c is
# linked with them and libFuzzer into fuzz/fuzz_TARGET. fuzz-run runs every
# harness for FUZZ_SECONDS on its seeds (fuzz/corpus/TARGET, read only) plus a
# working corpus in fuzz/work/TARGET; a crash is saved as fuzz/crashes/TARGET-*
# and fails the run.

TARGETS := batch config devtype image nmprofile osrelease png sshkey version
FUZZ_SECONDS ?= 10

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 $(SAN) $(WARN_CFLAGS) -include $(builddir)/config.h \
	-I$(srcdir)/include -I$(srcdir)/src/lib $(DEP_CFLAGS)

OBJ := fuzz/obj
LIB_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(filter %.c,$(LIB_SOURCES))) \
	$(OBJ)/device-types-data.o
BINS := $(TARGETS:%=fuzz/fuzz_%)

.PHONY: fuzz fuzz-run $(TARGETS:%=run-%)
.DELETE_ON_ERROR:

fuzz: $(BINS)

$(OBJ)/%.o: $(srcdir)/%.c $(builddir)/config.h
	@mkdir -p $(@D)
	@echo "  FUZZCC   $*.c"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(OBJ)/device-types-data.o: $(builddir)/src/lib/balena/device-types-data.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

fuzz/fuzz_%: $(srcdir)/fuzz/fuzz_%.c $(srcdir)/fuzz/fuzz.h $(LIB_OBJS)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(LIB_OBJS) $(LIBS) -o $@

-include $(LIB_OBJS:.o=.d)

# One line per harness: its executions and seconds; the log tail on failure.
fuzz-run: $(TARGETS:%=run-%)

$(TARGETS:%=run-%): run-%: fuzz/fuzz_%
	@rm -rf fuzz/work/$* && mkdir -p fuzz/work/$* fuzz/crashes
	@if ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(srcdir)/fuzz/lsan.supp \
	    ./fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=25 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=fuzz/crashes/$*- \
	    fuzz/work/$* $(srcdir)/fuzz/corpus/$* >fuzz/work/$*.log 2>&1; then \
	        echo "fuzz_$*: $$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz/work/$*.log) runs in $(FUZZ_SECONDS) s, no finding"; \
	else \
	        tail -n 60 fuzz/work/$*.log; \
	        echo "fuzz_$*: FAILED (log: fuzz/work/$*.log, input: fuzz/crashes/$*-*)"; exit 1; \
	fi
