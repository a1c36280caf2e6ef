# lua-bing: build, test, demo, bench, lint, sanitize, install.
# LUA=lua5.4 (default) or LUA=luajit selects the Lua the C core is built for.
LUA       ?= lua5.4
PREFIX    ?= /usr/local
CC        ?= cc
BUILD     := build/$(LUA)

ifeq ($(LUA),luajit)
  LUA_PC  := luajit
  LUA_BIN := luajit
  LUA_VER := 5.1
else
  LUA_PC  := lua5.4
  LUA_BIN := lua5.4
  LUA_VER := 5.4
endif

WARN      := -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Werror
OPT       ?= -O2 -g
PKG_CFLAGS = $(shell pkg-config --cflags $(LUA_PC) libcurl)
PKG_LIBS   = $(shell pkg-config --libs libcurl) -lm
# What the core needs is kept apart from CFLAGS/LDFLAGS so that setting those on the command
# line (make CFLAGS=-O0) adds to the build instead of dropping -fPIC or -shared. The module is
# not linked against liblua: the interpreter that loads it provides the Lua API. Only
# luaopen_bing_core is exported; the bing_ names stay inside the module.
CORE_CFLAGS = $(WARN) $(OPT) -fPIC -fvisibility=hidden -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS) \
              $(CFLAGS)
CORE_LDFLAGS = -shared $(SAN_LDFLAGS) $(LDFLAGS)

SRCS      := $(wildcard csrc/*.c)
HDRS      := $(wildcard csrc/*.h)
OBJS      := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
CORE      := $(BUILD)/bing/core.so

LUA_PATH_DEV  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;
LUA_CPATH_DEV := $(CURDIR)/$(BUILD)/?.so;;
RUN       := LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(LUA_CPATH_DEV)'
BUSTED    := $(LUA_BIN) /usr/bin/busted
SIM       := sim/bingsim
# What `make test` runs: every spec, or SPEC=spec/locations_spec.lua (a file or folder).
SPEC      ?= spec

DEBS := lua5.4 lua-zlib liblua5.4-dev libcurl4-openssl-dev lua-cjson lua-socket lua-sec lua-busted lua-check luarocks \
        nginx-light libnginx-mod-http-lua openssl luajit2 libluajit2-5.1-dev pkg-config \
        gcc make clang-format valgrind ca-certificates \
        libjpeg-turbo-progs \
        python3-geopy wrk curl clang libclang-rt-14-dev
# gdal-bin: ogrinfo reads every kind of GeoJSON back in spec/geojson_spec.lua (about 33 MB of
# packages, 124 MB installed with --no-install-recommends).
DEBS += gdal-bin
# lua-ldoc builds the reference (make docs); lua-discount is the Markdown it formats with
# (Debian's lua-ldoc lacks its built-in one).
DEBS += lua-ldoc lua-discount
# bsdutils: `script`, the pseudo-terminal spec/cli_progress_spec.lua draws the bar under.
DEBS += bsdutils
# libjs-leaflet: Leaflet for the OpenResty example's page (make web-assets); chromium (about
# 81 MB of packages, 290 MB installed) loads that page in spec/ngx_web_spec.lua; a font for
# its text.
DEBS += libjs-leaflet chromium fonts-dejavu-core

.PHONY: all deps deps-list build core test spec-unit demo bench lint format sanitize valgrind install clean \
        clean-build env core-luajit fuzz fuzz-build docs

all: build

# The Debian packages the project needs, one line (README points here rather than copying it).
deps-list:
	@echo $(DEBS)

# Installs what is missing from Debian when run as root; otherwise prints the apt-get line.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "missing packages; run as root:  apt-get install$$missing"; exit 1; fi

build: deps $(CORE)

# The module alone, without the Debian check (used by sanitize and valgrind builds).
core: $(CORE)

$(BUILD)/obj/%.o: csrc/%.c $(HDRS) Makefile | $(BUILD)/obj
	$(CC) $(CORE_CFLAGS) -c $< -o $@

$(CORE): $(OBJS) | $(BUILD)/bing
	$(CC) $(CORE_LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

$(BUILD)/obj $(BUILD)/bing:
	mkdir -p $@

env:
	@echo "export LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(LUA_CPATH_DEV)'"

# The LuaJIT core too: spec/ngx_transport_spec.lua runs the library inside nginx's LuaJIT.
core-luajit: deps
	@$(MAKE) --no-print-directory core LUA=luajit

# Leaflet for the OpenResty example's page (examples/openresty/www/), served by its nginx from
# build/web/leaflet/: copied from Debian's libjs-leaflet when installed (DEBS), else unpacked
# from npm's package (LEAFLET_NPM; needs npm). Never committed.
LEAFLET_DEB ?= /usr/share/javascript/leaflet
LEAFLET_NPM ?= leaflet@1.9.4
.PHONY: web-assets
web-assets: build/web/leaflet/leaflet.js

build/web/leaflet/leaflet.js:
	@rm -rf build/web/leaflet build/web/npm && mkdir -p build/web/leaflet build/web/npm
	@if [ -r $(LEAFLET_DEB)/leaflet.js ]; then \
	  cp -RL $(LEAFLET_DEB)/leaflet.js $(LEAFLET_DEB)/leaflet.css $(LEAFLET_DEB)/images build/web/leaflet/ && \
	  echo "web-assets: Leaflet from $(LEAFLET_DEB) (Debian libjs-leaflet)"; \
	else \
	  (cd build/web/npm && npm pack --silent $(LEAFLET_NPM) >/dev/null) && \
	  tar -xzf build/web/npm/leaflet-*.tgz -C build/web/npm && \
	  cp -R build/web/npm/package/dist/leaflet.js build/web/npm/package/dist/leaflet.css \
	    build/web/npm/package/dist/images build/web/leaflet/ && \
	  echo "web-assets: Leaflet from npm ($(LEAFLET_NPM))"; \
	fi; rm -rf build/web/npm; [ -r $@ ]

# The OpenResty example (examples/openresty/) against the emulator, in the foreground on
# http://127.0.0.1:8080/ (the map page; /geocode, /route, /isochrone, /usage): Ctrl-C stops
# it, and it stops by itself after OPENRESTY_SECONDS. As root the workers run as root (nobody
# may not read the checkout).
OPENRESTY_SECONDS ?= 600
.PHONY: example-openresty
example-openresty: build core-luajit web-assets
	@$(SIM) stop >/dev/null 2>&1 || true
	@sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	mkdir -p tmp/openresty; user=""; [ "$$(id -u)" = 0 ] && user="user root root;"; \
	echo "example-openresty: http://127.0.0.1:8080/ for $(OPENRESTY_SECONDS) s (Ctrl-C stops it)"; \
	BING_MAPS_KEY="$$SIM_KEY" BING_BASE_URL="$$SIM_URL" timeout --foreground $(OPENRESTY_SECONDS) \
	  nginx -p "$(CURDIR)/" -c examples/openresty/nginx.conf -e tmp/openresty/error.log \
	  -g "daemon off; $$user"; rc=$$?; \
	$(SIM) stop >/dev/null; [ $$rc = 124 ] && rc=0; exit $$rc

# Runs every busted spec against a fresh emulator; the last line is "N passed, N failed".
test: build core-luajit web-assets
	@$(SIM) stop >/dev/null 2>&1 || true
	@sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	$(RUN) $(BUSTED) --helper=spec/support/isolate.lua --output=spec/support/tap_summary.lua $(BUSTED_ARGS) $(SPEC); rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

demo: build
	@$(SIM) stop >/dev/null 2>&1 || true
	@sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	BING_MAPS_KEY="$$SIM_KEY" BING_BASE_URL="$$SIM_URL" $(RUN) $(LUA_BIN) examples/quickstart.lua; rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

# The examples against the emulator, one command each: make example-tiles, example-traffic, ...
# EXAMPLE_ARGS passes arguments (make example-tiles EXAMPLE_ARGS="0 180 3 --fetch build/tiles",
# make example-traffic EXAMPLE_ARGS="39.6 -105.05 39.8 -104.9 --severity 3,4"); TILES_ARGS is
# the older name for the tiles example's.
EXAMPLES := tiles elevations timezone traffic autosuggest geospatial csv_to_geojson batch_geocode \
            route_map
EXAMPLE_ARGS ?= $(TILES_ARGS)
.PHONY: $(addprefix example-,$(EXAMPLES))
$(addprefix example-,$(EXAMPLES)): example-%: build
	@$(SIM) stop >/dev/null 2>&1 || true
	@sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	BING_MAPS_KEY="$$SIM_KEY" BING_BASE_URL="$$SIM_URL" BING_SDS_URL="$$SIM_URL" BING_GEODATA_URL="$$SIM_URL" \
	$(RUN) $(LUA_BIN) examples/$*.lua $(EXAMPLE_ARGS); rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

# examples/csv_to_geojson.lua: one batch geocode job for a CSV file (CSV=, default
# examples/data/addresses.csv; OUT= a file, else stdout).
.PHONY: example-csv-geojson
CSV ?= examples/data/addresses.csv
OUT ?=
example-csv-geojson: EXAMPLE_ARGS = $(CSV) $(OUT)
example-csv-geojson: example-csv_to_geojson

# examples/route_map.lua: a route drawn on a static map image, into build/route_map.png unless
# EXAMPLE_ARGS says (make example-route-map EXAMPLE_ARGS="--path -o build/route.png Seattle Redmond").
.PHONY: example-route-map
example-route-map: EXAMPLE_ARGS := $(or $(EXAMPLE_ARGS),-o build/route_map.png)
example-route-map: example-route_map

# The C helpers of the bench: the raw libcurl loop (the floor) and a wait4 timer for the curl CLI.
BENCH_BINS := build/bench/curl_loop build/bench/rusage_exec

build/bench/%: bench/%.c Makefile
	@mkdir -p build/bench
	$(CC) $(WARN) -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $< -o $@ $$(pkg-config --cflags --libs libcurl)

# Not part of the tests: one run of bench/run.lua (about a minute), printed as one table of
# medians and ratios; BENCHMARKS.md holds a run and how to read it. The driver always runs on
# Lua 5.4 and starts the Lua 5.4 and LuaJIT contestants itself. BENCH_QUICK=1: a smoke run.
bench: build core-luajit $(BENCH_BINS)
	@$(MAKE) --no-print-directory core LUA=lua5.4
	@$(SIM) stop >/dev/null 2>&1 || true
	@sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	BENCH_ROOT='$(CURDIR)' LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(CURDIR)/build/lua5.4/?.so;;' \
	  timeout 900 lua5.4 bench/run.lua; rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

lint: deps
	luacheck -q --no-color lua spec sim examples bench doc bin/bing
	clang-format --dry-run --Werror csrc/*.c csrc/*.h fuzz/*.c fuzz/*.h
	@$(MAKE) --no-print-directory lint-luajit

# Every Lua file that LuaJIT loads (the library, the emulator inside nginx, the examples, the
# specs under `make test LUA=luajit`) must parse there: no 5.3+ operators (`//`, `<<`, `>>`,
# `&`, `|`, `~`), no `<const>`/`<close>` outside a string given to load(). Files that only
# Lua 5.4 ever runs are listed here, each with its reason:
#   bench/run.lua  the bench driver; `make bench` always runs it with lua5.4 (the LuaJIT
#                  contestants are separate processes it starts).
#   spec/support/fault_server.lua  a standalone server process that spec/support/faults.lua
#                  starts with lua5.4 (FAULT_SERVER_LUA), whichever Lua runs the specs.
LUAJIT_ONLY_54 := bench/run.lua spec/support/fault_server.lua
.PHONY: lint-luajit
lint-luajit:
	@bad=0; for f in $$(find spec lua sim/lua examples bench doc -name '*.lua' | sort) bin/bing; do \
	  case " $(LUAJIT_ONLY_54) " in *" $$f "*) continue;; esac; \
	  err=$$(luajit -bl "$$f" 2>&1 >/dev/null) || { echo "make lint: $$err (LuaJIT cannot parse it)" >&2; bad=1; }; \
	done; exit $$bad

# The HTML reference in build/docs/ (index.html): LDoc over the library's doc comments
# (config.ld) and the calls of each client.<family>, written from the families' declarations
# by doc/gen_reference.lua (options, limits, billing, errors, an example). Any LDoc warning
# fails the target: LDoc prints warnings as "file:line: message" (exit 0 for some of them), so
# its output is checked as well as its status.
docs: build
	@rm -rf build/docs && mkdir -p build/docs/src
	@$(RUN) lua5.4 doc/gen_reference.lua build/docs/src
	@ldoc --fatalwarnings . >build/docs/ldoc.log 2>&1; rc=$$?; \
	warn=$$(grep -Ev '^(format: using built-in|reading configuration from|output written to)' build/docs/ldoc.log); \
	if [ $$rc != 0 ] || [ -n "$$warn" ]; then cat build/docs/ldoc.log >&2; \
	  echo "make docs: LDoc warnings ($$(printf '%s\n' "$$warn" | grep -c .))" >&2; exit 1; fi; \
	echo "make docs: build/docs/index.html"

format:
	clang-format -i csrc/*.c csrc/*.h fuzz/*.c fuzz/*.h

# The whole suite with AddressSanitizer + UBSan (+ LeakSanitizer) in the C core, for lua5.4.
# Debian's lua5.4 is not built with ASan, so the ASan runtime is preloaded: it must be the first
# library of the process, before the interpreter dlopens core.so. Leak checking works because
# busted closes the Lua state at exit (every handle's __gc runs) and libcurl/OpenSSL keep
# their one-time allocations reachable. -fno-sanitize-recover: the first UBSan finding aborts.
# LeakSanitizer cannot run under ptrace (strace, gdb, some CI sandboxes): it stops the process
# with "LeakSanitizer has encountered a fatal error". A probe finds out first; where it fails,
# sanitize says so, runs without LSan and then runs valgrind's leak check (make valgrind)
# instead. SAN_LEAKS=0 turns leak checking off by hand.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LEAKS ?= 1
# The specs start other programs (make, script, the examples, bin/bing, servers): they inherit
# the preload, and those that load core.so need it; spec/support/isolate.lua gives them
# BING_CHILD_ASAN_OPTIONS, without LeakSanitizer and strict string checks, which report
# Debian's own programs (make's strndup, script's one strdup), not this project's code.
SAN_ENV    = LD_PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
             ASAN_OPTIONS=detect_leaks=$$leaks:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
             BING_CHILD_ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=1 \
             UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LSAN_PROBE := build/lsan-probe
# Sets the shell's $$leaks: 1 when LeakSanitizer works here (and SAN_LEAKS=1), else 0.
LSAN_CHECK = leaks=0; if [ "$(SAN_LEAKS)" = 1 ]; then \
               if ASAN_OPTIONS=detect_leaks=1 $(LSAN_PROBE) >/dev/null 2>&1; then leaks=1; else \
                 echo "make: LeakSanitizer cannot run here (under ptrace or in a sandbox):" \
                      "leaks are checked by valgrind instead" >&2; fi; fi

$(LSAN_PROBE):
	@mkdir -p build
	@printf '#include <stdlib.h>\nint main(void) { free(malloc(8)); return 0; }\n' | \
	  $(CC) -x c -fsanitize=address -o $@ -

sanitize: deps $(LSAN_PROBE) web-assets
	$(MAKE) --no-print-directory core LUA=lua5.4 BUILD=build/asan OPT="-O1 -g $(SAN_FLAGS)" \
	  SAN_LDFLAGS="$(SAN_FLAGS)"
	@$(SIM) stop >/dev/null 2>&1 || true
	@$(LSAN_CHECK); \
	sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	$(SAN_ENV) LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(CURDIR)/build/asan/?.so;;' \
	lua5.4 /usr/bin/busted --helper=spec/support/isolate.lua --output=spec/support/tap_summary.lua $(BUSTED_ARGS) $(SPEC); rc=$$?; \
	$(SIM) stop >/dev/null; [ $$rc = 0 ] || exit $$rc; \
	if [ "$(SAN_LEAKS)" = 1 ] && [ $$leaks = 0 ]; then $(MAKE) --no-print-directory valgrind; fi

# The C core's specs under valgrind's memcheck: invalid accesses, uninitialised reads and
# definite, indirect or possible leaks fail the run. Debian 12's libcurl and OpenSSL need no
# suppressions (their one-time allocations stay reachable); VALGRIND_FLAGS adds some
# (--suppressions=FILE) on systems that do.
VALGRIND_FLAGS ?=
VALGRIND := valgrind --quiet --error-exitcode=1 --leak-check=full \
            --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible $(VALGRIND_FLAGS)

# Always lua5.4: LuaJIT's allocator and JIT need a special build to run under memcheck.
valgrind: deps
	$(MAKE) --no-print-directory core LUA=lua5.4
	@$(SIM) stop >/dev/null 2>&1 || true
	@sim=$$($(SIM) start) && [ -n "$$sim" ] || { echo "make: the emulator did not start" >&2; exit 1; }; eval "$$sim"; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(CURDIR)/build/lua5.4/?.so;;' \
	$(VALGRIND) lua5.4 /usr/bin/busted $(BUSTED_ARGS) spec/core_spec.lua spec/transport_spec.lua \
	  spec/batch_spec.lua; \
	rc=$$?; $(SIM) stop >/dev/null; exit $$rc

# libFuzzer targets: every fuzz/fuzz_<name>.c is one, built with Debian's clang (its fuzzer
# runtime comes with libclang-rt-14-dev) together with the whole C core, under ASan and UBSan,
# against lua5.4 and the system's lua-cjson. Each runs FUZZ_SECONDS from the corpus kept in
# fuzz/corpus/<name>/ (read only: what a run finds goes to build/fuzz/corpus/<name>/; copy what
# is worth keeping). A finding stops the run and leaves build/fuzz/<name>-crash-* to replay
# with build/fuzz/fuzz_<name> FILE.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS    := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_CFLAGS  := -std=c99 -Wall -Wextra -Wshadow -Werror -g -O1 -D_POSIX_C_SOURCE=200809L \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                $(shell pkg-config --cflags lua5.4 libcurl)
FUZZ_LIBS     = $(shell pkg-config --libs lua5.4 libcurl) -lm

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/harness.h $(SRCS) $(HDRS) Makefile
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(SRCS) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build $(LSAN_PROBE)
	@$(LSAN_CHECK); for n in $(FUZZ_NAMES); do \
	  mkdir -p fuzz/corpus/$$n build/fuzz/corpus/$$n; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=$$leaks UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 -detect_leaks=$$leaks -artifact_prefix=build/fuzz/$$n- \
	    build/fuzz/corpus/$$n fuzz/corpus/$$n 2>build/fuzz/$$n.log || \
	    { tail -40 build/fuzz/$$n.log; echo "make fuzz: $$n found a problem (build/fuzz/$$n-*)"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done|^#[0-9]+.*DONE' build/fuzz/$$n.log | tr '\n' ' '; echo; \
	done

clean-build:
	rm -rf $(BUILD)

install: build
	install -d $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/bing
	install -m 644 lua/bing/*.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing/
	install -d $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing/api
	install -m 644 lua/bing/api/*.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing/api/
	install -m 755 $(CORE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/bing/core.so
	install -d $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing/cli $(DESTDIR)$(PREFIX)/bin
	install -m 644 lua/bing/cli/*.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing/cli/
	@# bin/bing for the Lua it was built for, finding the modules under PREFIX first.
	{ echo '#!/usr/bin/env $(LUA_BIN)'; \
	  echo 'package.path = "$(PREFIX)/share/lua/$(LUA_VER)/?.lua;$(PREFIX)/share/lua/$(LUA_VER)/?/init.lua;" .. package.path'; \
	  echo 'package.cpath = "$(PREFIX)/lib/lua/$(LUA_VER)/?.so;" .. package.cpath'; \
	  tail -n +2 bin/bing; } > $(DESTDIR)$(PREFIX)/bin/bing
	chmod 755 $(DESTDIR)$(PREFIX)/bin/bing

clean:
	rm -rf build

