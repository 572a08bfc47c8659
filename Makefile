# gridflow — build, run, test.  See README.md.
#   make            build everything into build/ and bin/
#   make run        install deps, start private PostgreSQL, run the stack with a sample feed
#   make run-ha     the same on a pg_auto_failover monitor, primary and synchronous standby
#   make check      install deps, run unit + end-to-end tests (prints "N passed, N failed")
#   make bench      performance benchmark
#   WERROR=1  SANITIZE=address,undefined  are build switches.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := libczmq libzmq msgpack jansson libpq libcurl libmicrohttpd libarchive libsodium liboath

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wwrite-strings -Wformat=2 -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
           -Icommon -Iproto $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC  := $(wildcard proto/*.c) $(wildcard common/*.c)
# BUILD/BINDIR let a sanitizer build live beside the normal one.
BUILD   ?= build
BINDIR  ?= bin
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libgridflow.a

# service binaries: bin/<name> from services/<dir>/*.c
SERVICES := gf-intake:services/intake gf-relay:services/relay \
            gf-router:services/router gf-notifier:services/notifier \
            gf-escalator:services/escalator gf-hotline:services/adapters/hotline gf-suggestbox:services/adapters/suggestbox \
            gridctl:services/gridctl gf-gateway:services/gateway
BINS     := $(foreach s,$(SERVICES),$(BINDIR)/$(word 1,$(subst :, ,$(s))))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
$(BUILD)/tools/intake_errors: LDLIBS += -lcmocka
$(BUILD)/tools/db_prepared: LDLIBS += -lcmocka

.PHONY: dashboard all check check-quick run bench install clean format format-check deps unit e2e fuzz fuzz-build chaos
all: $(BINS) $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/%.o: %.c $(wildcard common/*.h proto/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
# test_proto includes the golden vectors' inputs.
$(BUILD)/tests/unit/test_proto.o: proto/vectors/gf_vectors.inc

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

define service_rule
$(BINDIR)/$(1): $$(patsubst %.c,$(BUILD)/%.o,$$(wildcard $(2)/*.c)) $$(LIB)
	@mkdir -p $(BINDIR)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rule,$(word 1,$(subst :, ,$(s))),$(word 2,$(subst :, ,$(s))))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS) -lcmocka

# Unit tests of a service module link that module too.
$(BUILD)/tests/test_hotline: $(BUILD)/services/adapters/hotline/gf_hotline.o
$(BUILD)/tests/unit/test_hotline.o: CFLAGS += -Iservices/adapters/hotline
$(BUILD)/tests/test_suggestbox: $(BUILD)/services/adapters/suggestbox/gf_suggestbox.o \
                                $(BUILD)/services/adapters/suggestbox/gf_csv.o
$(BUILD)/tests/unit/test_suggestbox.o: CFLAGS += -Iservices/adapters/suggestbox
$(BUILD)/tests/test_hub: $(BUILD)/services/gateway/gf_hub.o
$(BUILD)/tests/unit/test_hub.o: CFLAGS += -Iservices/gateway
$(BUILD)/tests/test_gwargs: $(BUILD)/services/gateway/gf_gwargs.o
$(BUILD)/tests/unit/test_gwargs.o: CFLAGS += -Iservices/gateway

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets (clang, docs/fuzzing.md): objects of their own in
# build/fuzz, never mixed with the gcc builds.  make fuzz runs each target
# FUZZ_SECONDS (default 300) and keeps the corpus in var/fuzz/.
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := address,undefined
FUZZ_CFLAGS   = -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
                -Icommon -Iproto -Iservices/adapters/hotline -Iservices/adapters/suggestbox \
                -Iservices/gateway $(PKG_CFLAGS) -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -fno-sanitize-recover=undefined
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 300

$(FUZZ_DIR)/%.o: %.c $(wildcard common/*.h proto/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libgridflow.a: $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libgridflow.a
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $(filter %.o,$^) $(FUZZ_DIR)/libgridflow.a $(LDLIBS)

$(FUZZ_DIR)/fuzz_hotline: $(FUZZ_DIR)/services/adapters/hotline/gf_hotline.o
$(FUZZ_DIR)/fuzz_suggestbox: $(FUZZ_DIR)/services/adapters/suggestbox/gf_suggestbox.o \
                             $(FUZZ_DIR)/services/adapters/suggestbox/gf_csv.o
$(FUZZ_DIR)/fuzz_gwargs: $(FUZZ_DIR)/services/gateway/gf_gwargs.o

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) var/fuzz

deps:
	@deploy/install-deps.sh

# The dashboard's built files are committed (services/gateway/web/dist), so
# running needs no npm; this rebuilds them (vite) after a change to web/.
# make check fails while they are not what web/ builds to
# (tests/e2e/test_dashboard_dist.sh rebuilds and compares byte for byte).
dashboard: deps
	cd services/gateway/web && npm ci --no-audit --no-fund && npm run build

unit: all
	@tests/run.sh unit

e2e: all
	@tests/run.sh e2e

# The full suite: unit + end-to-end; the unit tests again under valgrind;
# then unit + end-to-end again built with ASan/UBSan.  One summary line.
ASAN_DIRS := BUILD=build/asan BINDIR=build/asan/bin SANITIZE=address,undefined
# The three builds use every core (serial, they took about 80 s of a clean
# clone's make check on 2 cores).
check: deps
	@$(MAKE) --no-print-directory -j$$(nproc) WERROR=1 all
	@$(MAKE) --no-print-directory -j$$(nproc) $(ASAN_DIRS) all
	@$(MAKE) --no-print-directory -j$$(nproc) fuzz-build
	@tests/run.sh check

# Quicker loops while developing.
check-quick: all
	@tests/run.sh all

# Several hosts in network namespaces (needs root and `ip netns`; prints
# "# skip" without them).  make check runs it too.  docs/operations.md.
.PHONY: check-multihost
check-multihost: all
	@tests/run.sh multihost

# PostgreSQL failover: a primary and a synchronous standby (deploy/pg-ha.sh),
# the primary crashes mid-feed, the standby is promoted by hand; and with
# pg_auto_failover (deploy/pg-auto.sh) killed and frozen, promoted by its
# monitor (tests/ha/test_ha_auto.sh).  docs/operations.md.
.PHONY: check-ha
check-ha: all
	@tests/run.sh ha

# A city above two districts (deploy/city.sh, logical replication): the
# city report equals the districts' sum, a district away catches up.  make
# check runs it too (once).  docs/operations.md, "A city above the districts".
.PHONY: check-city
check-city: all
	@tests/run.sh city

run: deps
	@$(MAKE) --no-print-directory all
	@deploy/run.sh

# make run against a pg_auto_failover monitor, primary and synchronous
# standby (deploy/pg-auto.sh, under var/paf/): failover without a person.
.PHONY: run-ha
run-ha: deps
	@$(MAKE) --no-print-directory all
	@GF_RUN_HA=auto deploy/run.sh

# The long chaos run (docs/chaos.md): 100,000 complaints, random kill -9s,
# one PostgreSQL restart.  CHAOS_COUNT, CHAOS_SEED, TEST_PORT_BASE, GF_PGPORT.
chaos: all
	@deploy/pg.sh start >/dev/null && tests/chaos/chaos.sh

# The long nemesis run (docs/chaos.md, "Nemeses"): processes paused, file
# descriptors exhausted, clocks skewed, PostgreSQL's disk full, a host
# partitioned from the database and the relay, each under load and followed by the chaos
# invariants; then the primary and the standby of a pg_auto_failover
# formation killed in turn.  make check runs a short version
# (tests/nemesis/nemesis_short.sh).  NEMESIS_COUNT, NEMESIS_HOLD_S, NEMESIS_SEED, TEST_PORT_BASE.
.PHONY: nemesis
nemesis: all
	@tests/nemesis/nemesis.sh && NEMESIS_LIST=failover GF_TEST_TAG=-failover tests/nemesis/nemesis.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/bench.sh
	@bench/escalation_bench.sh
	@bench/programmes_bench.sh
	@bench/workbench_bench.sh
	@python3 bench/report.py

# Binaries, SQL, calendar; systemd units (paths filled in) and sample
# configs (never over an existing one).  docs/operations.md, "Deploy".
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/gridflow
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/gridflow/sql/migrations \
	           $(DESTDIR)$(PREFIX)/share/gridflow/sql/repeatable \
	           $(DESTDIR)$(PREFIX)/share/gridflow/calendar $(DESTDIR)$(UNITDIR) \
	           $(DESTDIR)$(SYSCONFDIR)/gridflow $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 deploy/sql/migrations/*.sql $(DESTDIR)$(PREFIX)/share/gridflow/sql/migrations/
	install -m 0644 deploy/sql/repeatable/*.sql $(DESTDIR)$(PREFIX)/share/gridflow/sql/repeatable/
	install -m 0644 deploy/calendar/*.json $(DESTDIR)$(PREFIX)/share/gridflow/calendar/
	install -m 0644 docs/operations.md $(DESTDIR)$(DOCDIR)/
	for u in deploy/systemd/*; do \
	  sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	      -e 's|@DOCDIR@|$(DOCDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; done
	for c in deploy/config/*.cfg; do \
	  t=$(DESTDIR)$(SYSCONFDIR)/gridflow/$$(basename $$c); \
	  if [ -e $$t ]; then echo "install: keeping $$t (new sample: $$t.sample)"; \
	    install -m 0644 $$c $$t.sample; else install -m 0644 $$c $$t; fi; done
	install -d $(DESTDIR)$(PREFIX)/share/gridflow/web/assets
	install -m 0644 services/gateway/web/dist/*.html $(DESTDIR)$(PREFIX)/share/gridflow/web/
	install -m 0644 services/gateway/web/dist/assets/* $(DESTDIR)$(PREFIX)/share/gridflow/web/assets/

clean:
	rm -rf build bin tests/artifacts

FORMAT_SRC = $(shell find common proto services tests bench -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)
