# SPDX-License-Identifier: BSD-2-Clause
# faultcell build. Quiet unless V=1. Picks up bpf/*.bpf.c, user/**/*.c and tests/**/*.c by
# themselves: adding a fault, a command or a test is adding files.

OUT ?= build
ARCH ?= x86
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_H ?= vmlinux/$(ARCH)/vmlinux.h
CC ?= gcc

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
# gnu11: C11 plus the GNU attributes the command and test tables use (section, used).
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Wno-format-truncation -D_GNU_SOURCE -Iinclude -Iuser -Itests -I$(OUT)/skel
LDLIBS = -lbpf -lelf -lz -lyaml -lm
BPF_CFLAGS = -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX_H)) -Iinclude -Ibpf \
	-I/usr/include/$(shell uname -m)-linux-gnu -Wall -Werror -Wno-unused-function

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/skel/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(shell find user -name '*.c' ! -path user/main.c | sort)
LIB_OBJS := $(patsubst %.c,$(OUT)/%.o,$(LIB_SRCS))
TEST_SRCS := $(shell find tests -name '*.c' ! -path 'tests/fuzz/*' | sort)
TEST_OBJS := $(patsubst %.c,$(OUT)/%.o,$(TEST_SRCS))
HDRS := $(shell find include user tests bpf -name '*.h')

.DELETE_ON_ERROR:
# keep objects and skeletons: tests and `plan` load the .bpf.o files too
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all deps test test-unit test-host test-e2e vmtest demo bench clean format check-format \
	fuzz fuzz-build install

all: $(OUT)/faultcell $(OUT)/fc-test

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) $(wildcard include/*.h) $(VMLINUX_H)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/skel/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(OUT)/%.o: %.c $(HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libfaultcell.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# --whole-archive: commands and tests register themselves through linker sections, so nothing
# refers to them by name and a plain archive link would drop them.
$(OUT)/faultcell: $(OUT)/user/main.o $(OUT)/libfaultcell.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< -Wl,--whole-archive $(OUT)/libfaultcell.a -Wl,--no-whole-archive $(LDLIBS)

$(OUT)/fc-test: $(TEST_OBJS) $(OUT)/libfaultcell.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $(TEST_OBJS) -Wl,--whole-archive $(OUT)/libfaultcell.a -Wl,--no-whole-archive $(LDLIBS)

deps:
	$(Q)packaging/deps.sh

# The README's one command. Each tier prints its time against its budget; one closing line.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-tiers.sh

test-unit test-host test-e2e: all
	$(Q)tests/run-tiers.sh $(patsubst test-%,%,$@)

vmtest: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-tiers.sh vm

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(OUT)/faultcell demo $(DEMO_ARGS)

# make fuzz: libFuzzer + ASan/UBSan over the experiment loader and the condition parser
# (tests/fuzz/), FUZZ_TIME seconds in all (default 60). The unit tier runs it through
# tests/unit/exp_fuzz_test.c. The runtimes come from libclang-rt-14-dev.
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-Wno-unknown-warning-option
FUZZ_OBJS := $(patsubst %.c,$(OUT)/fuzz/%.o,$(LIB_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
.SECONDARY: $(FUZZ_OBJS)

$(OUT)/fuzz/%.o: %.c $(HDRS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -c $< -o $@

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< -Wl,--whole-archive \
		$(FUZZ_OBJS) -Wl,--no-whole-archive $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)OUT=$(OUT) tests/fuzz/run.sh

# The benchmarks of design.md §8 that run on this host (ratios against a baseline in the same
# run, with confidence intervals); not part of `make test`.
bench: all
	$(Q)for b in bench/p*.sh; do echo "== $$b"; OUT=$(OUT) $$b || exit 1; done

# make install [DESTDIR=...] [PREFIX=/usr/local]: the binary (BPF objects are inside it), the
# experiment library, the docs and the systemd units for scheduled game days
# (docs/scheduling.md). systemd reads $(PREFIX)/lib/systemd/system for /usr/local too.
PREFIX ?= /usr/local
SBINDIR = $(PREFIX)/sbin
DATADIR = $(PREFIX)/share/faultcell
DOCDIR = $(PREFIX)/share/doc/faultcell
UNITDIR = $(PREFIX)/lib/systemd/system
install: all
	$(Q)install -D -m 0755 $(OUT)/faultcell $(DESTDIR)$(SBINDIR)/faultcell
	$(Q)install -d $(DESTDIR)$(DATADIR)/experiments $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	$(Q)install -m 0644 experiments/*.yaml $(DESTDIR)$(DATADIR)/experiments/
	$(Q)install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	$(Q)for u in packaging/systemd/*; do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $$u \
			>$(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	$(Q)echo "installed faultcell in $(DESTDIR)$(SBINDIR), units in $(DESTDIR)$(UNITDIR)"

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

check-format:
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

clean:
	$(Q)rm -rf $(OUT)
