# vmm — a KVM micro-VM hypervisor for container images.
#
#   make            build/vmm, the guest payloads and the default busybox image
#   make kernel     the guest kernel (cached, see scripts/build-kernel.sh)
#   make check      unit and integration tests; ends with "N passed, N failed"
#   make asan       an ASan+UBSan build in build/asan; `make check SAN=1` runs the tests on it
#   make fuzz       build and briefly run the libFuzzer targets
#
# Sources are found by directory (LIB_DIRS): a new .c file in one of them is part
# of the binary; tests/unit/test_*.c each become a unit test program.

SAN ?=
ifeq ($(SAN),1)
BUILD ?= build/asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS =
endif

CC ?= cc
PKGS := libarchive zlib slirp ext2fs com_err json-c libcurl libseccomp libzstd libcrypto libxml-2.0 libmicrohttpd
# libvirt is optional: with its -dev package, `vmm domain define --from-libvirt` and
# `export --to-libvirt` talk to libvirt itself; without it they say how to get it.
# LIBVIRT=no builds without it even when it is there.
LIBVIRT ?= $(shell pkg-config --exists libvirt 2>/dev/null && echo yes || echo no)
LIBVIRT := $(LIBVIRT)
ifeq ($(LIBVIRT),yes)
PKGS += libvirt
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow -Wno-unused-parameter -Werror
CFLAGS ?= -O2 -g
# The version: the latest tag and commit (git describe), or the bare commit in a clone without tags.
VMM_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -I. $(PKG_CFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread

LIB_DIRS := vmm/base vmm vmm/x86 vmm/machine vmm/engine vmm/domain vmm/api vmm/oci vmm/cli devices devices/virtio \
	images images/disk images/oci images/rootfs
LIB_SRCS := $(filter-out vmm/cli/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))) \
	$(wildcard guest-agent/protocol*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# The guest agent's code built for the host, a library the unit tests link.
AGENT_LIB_SRCS := $(filter-out guest-agent/main.c guest-agent/protocol%.c,$(wildcard guest-agent/*.c))
AGENT_LIB_OBJS := $(AGENT_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Test and bench programs that drive the library directly (not part of build/vmm).
HELPER_BINS := $(BUILD)/tests/agent-test $(BUILD)/tests/disk-bench $(BUILD)/tests/confine-probe

# The guest agent is PID 1 in the guest: static musl, small (every initramfs
# byte costs guest boot time on an emulating host).
AGENT_CC ?= musl-gcc
AGENT_SRCS := $(wildcard guest-agent/*.c) vmm/base/error.c vmm/base/path.c vmm/base/util.c
AGENT_CFLAGS := -std=gnu11 $(WARN) -Os -D_GNU_SOURCE -I. -static -ffunction-sections \
	-fdata-sections -fno-asynchronous-unwind-tables -fno-stack-protector -Wl,--gc-sections -s

# The demo guest of README's first command: busybox prints a hello and exits.
PAYLOADS := build/guest/hello.cpio build/guest/agent.cpio

.PHONY: all vmm agent kernel check stress unit asan fuzz clean image bench payloads print-lib-srcs print-agent-lib-srcs man install uninstall
all: vmm payloads image

vmm: $(BUILD)/vmm

$(BUILD)/vmm: $(BUILD)/obj/vmm/cli/main.o $(BUILD)/libvmm.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libvmm.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/obj/vmm/engine/version.o: ALL_CFLAGS += -DVMM_VERSION='"$(VMM_VERSION)"'

# Only this file knows whether libvirt is linked; it is rebuilt when that changes.
ifeq ($(LIBVIRT),yes)
$(BUILD)/obj/vmm/domain/libvirt-conn.o: ALL_CFLAGS += -DHAVE_LIBVIRT
endif
$(BUILD)/obj/vmm/domain/libvirt-conn.o: $(BUILD)/libvirt.cfg
$(BUILD)/libvirt.cfg: FORCE
	@mkdir -p $(BUILD)
	@echo $(LIBVIRT) | cmp -s - $@ || echo $(LIBVIRT) > $@
FORCE:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libagent-host.a: $(AGENT_LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libagent-host.a $(BUILD)/libvmm.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libagent-host.a $(BUILD)/libvmm.a $(LDLIBS)

$(BUILD)/tests/agent-test: tests/helpers/agent-test.c $(BUILD)/libvmm.a
	@mkdir -p $(dir $@)
	@echo "  HELPER  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libvmm.a $(LDLIBS)

$(BUILD)/tests/confine-probe: tests/helpers/confine-probe.c $(BUILD)/libvmm.a
	@mkdir -p $(dir $@)
	@echo "  HELPER  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libvmm.a $(LDLIBS)

$(BUILD)/tests/disk-bench: tests/bench/disk-bench.c $(BUILD)/libvmm.a
	@mkdir -p $(dir $@)
	@echo "  HELPER  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libvmm.a $(LDLIBS)

unit: $(UNIT_BINS) $(HELPER_BINS)

payloads: $(PAYLOADS)

build/guest/hello.cpio: guest-agent/hello-init.sh scripts/mkinitramfs.sh
	@echo "  CPIO    $@"
	@APPLETS="sh mount echo devmem nproc uname awk" scripts/mkinitramfs.sh $@ $<

agent: build/guest/vmm-agent

build/guest/vmm-agent: $(AGENT_SRCS) $(wildcard guest-agent/*.h vmm/base/*.h)
	@mkdir -p $(dir $@)
	@echo "  AGENT   $@"
	@$(AGENT_CC) $(AGENT_CFLAGS) -o $@ $(AGENT_SRCS)

# The guest's initramfs: /init = the agent, and the mount points it needs.
build/guest/agent.cpio: build/guest/vmm-agent scripts/mkagentcpio.sh
	@echo "  CPIO    $@"
	@scripts/mkagentcpio.sh $@ build/guest/vmm-agent

kernel:
	@mkdir -p $(BUILD)
	@k=$$(scripts/build-kernel.sh) && ln -sf "$$k" build/vmlinux && echo "kernel: build/vmlinux -> $$k"
	@[ "$(BUILD)" = build ] || ln -sf "$$(readlink build/vmlinux)" $(BUILD)/vmlinux

# Another build directory (SAN=1) shares the guest payloads: vmm finds them next to itself.
ifneq ($(BUILD),build)
all: $(BUILD)/guest
$(BUILD)/guest:
	@mkdir -p $(BUILD)
	@ln -sfn ../guest $(BUILD)/guest
endif

image: $(BUILD)/vmm
	@scripts/build-busybox-image.sh $(BUILD)/vmm

asan:
	$(MAKE) SAN=1 vmm unit

check: all kernel unit
	@tests/run.sh $(BUILD)

# The long soaks and stress runs, out of make check (tests/stress/).
stress: all kernel
	@tests/run.sh $(BUILD) "" stress

bench: all kernel
	@tests/bench/run.sh $(BUILD)

# tests/fuzz/run.sh builds these same sources with clang's fuzzer instrumentation.
print-lib-srcs:
	@echo $(LIB_SRCS)
print-agent-lib-srcs:
	@echo $(AGENT_LIB_SRCS)

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
fuzz:
	@tests/fuzz/run.sh $(FUZZ_SRCS)

# Man pages from the --help texts (scripts/mkman.sh), and installing all of it:
# the binary lives beside its guest payloads in $(PREFIX)/lib/vmm (vmm finds
# vmlinux and guest/agent.cpio next to itself), with a link in $(PREFIX)/bin.
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR := $(DESTDIR)$(PREFIX)/lib/vmm
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
COMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions

man: $(BUILD)/vmm
	@scripts/mkman.sh $(BUILD)/vmm $(BUILD)/man

install: all kernel man
	install -d $(LIBDIR)/guest $(DESTDIR)$(PREFIX)/bin $(MANDIR) $(COMPDIR)
	install -m 0755 $(BUILD)/vmm $(LIBDIR)/vmm
	install -m 0644 "$$(readlink -f build/vmlinux)" $(LIBDIR)/vmlinux
	install -m 0644 build/guest/agent.cpio $(LIBDIR)/guest/agent.cpio
	ln -sfn ../lib/vmm/vmm $(DESTDIR)$(PREFIX)/bin/vmm
	ln -sfn ../lib/vmm/vmm $(DESTDIR)$(PREFIX)/bin/vmm-runtime
	install -m 0644 $(BUILD)/man/*.1 $(MANDIR)/
	install -m 0644 scripts/vmm.bash-completion $(COMPDIR)/vmm

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vmm $(DESTDIR)$(PREFIX)/bin/vmm-runtime $(COMPDIR)/vmm $(MANDIR)/vmm.1 $(MANDIR)/vmm-*.1
	rm -rf $(LIBDIR)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
