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
PKG_LIBS   = $(shell pkg-config --libs libcurl)
CFLAGS    += $(WARN) $(OPT) -fPIC -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS)
LDFLAGS   += -shared

SRCS      := $(wildcard csrc/*.c)
HDRS      := $(wildcard csrc/*.h)
OBJS      := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
CORE      := $(BUILD)/bing/core.so

LUA_PATH_DEV  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;
LUA_CPATH_DEV := $(CURDIR)/$(BUILD)/?.so;;
RUN       := LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(LUA_CPATH_DEV)'
BUSTED    := $(LUA_BIN) /usr/bin/busted
SIM       := sim/bingsim

DEBS := lua5.4 liblua5.4-dev libcurl4-openssl-dev lua-cjson lua-busted lua-check luarocks \
        nginx-light libnginx-mod-http-lua openssl luajit2 libluajit2-5.1-dev pkg-config \
        gcc make clang-format valgrind

.PHONY: all deps build test spec-unit demo bench lint format sanitize valgrind install clean env

all: build

# Installs what is missing from Debian when run as root; otherwise prints the apt-get line.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "missing packages; run as root:  apt-get install$$missing"; exit 1; fi

build: deps $(CORE)

$(BUILD)/obj/%.o: csrc/%.c $(HDRS) | $(BUILD)/obj
	$(CC) $(CFLAGS) -c $< -o $@

$(CORE): $(OBJS) | $(BUILD)/bing
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

$(BUILD)/obj $(BUILD)/bing:
	mkdir -p $@

env:
	@echo "export LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(LUA_CPATH_DEV)'"

# Runs every busted spec against a fresh emulator; the last line is "N passed, N failed".
test: build
	@$(SIM) stop >/dev/null 2>&1 || true
	@eval "$$($(SIM) start)" || exit 1; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	$(RUN) $(BUSTED) --output=spec/support/tap_summary.lua $(BUSTED_ARGS) spec; rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

demo: build
	@$(SIM) stop >/dev/null 2>&1 || true
	@eval "$$($(SIM) start)" || exit 1; \
	BING_MAPS_KEY="$$SIM_KEY" BING_BASE_URL="$$SIM_URL" $(RUN) $(LUA_BIN) examples/quickstart.lua; rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

bench: build
	@$(SIM) stop >/dev/null 2>&1 || true
	@eval "$$($(SIM) start)" || exit 1; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	$(RUN) $(LUA_BIN) bench/run.lua; rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

lint: deps
	luacheck -q lua spec sim examples bench
	clang-format --dry-run --Werror csrc/*.c csrc/*.h

format:
	clang-format -i csrc/*.c csrc/*.h

# The whole suite with AddressSanitizer + UBSan in the C core.
sanitize: deps
	$(MAKE) clean-build BUILD=build/asan
	$(MAKE) $(CURDIR)/build/asan/bing/core.so BUILD=build/asan \
	  OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-shared -fsanitize=address,undefined"
	@$(SIM) stop >/dev/null 2>&1 || true
	@eval "$$($(SIM) start)" || exit 1; \
	export SIM_URL SIM_HTTPS_URL SIM_CA SIM_KEY SIM_SESSION_KEY SIM_DIR; \
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	LUA_PATH='$(LUA_PATH_DEV)' LUA_CPATH='$(CURDIR)/build/asan/?.so;;' \
	$(BUSTED) --output=spec/support/tap_summary.lua spec; rc=$$?; \
	$(SIM) stop >/dev/null; exit $$rc

$(CURDIR)/build/asan/bing/core.so: $(SRCS) $(HDRS)
	mkdir -p build/asan/bing
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SRCS) $(PKG_LIBS)

clean-build:
	rm -rf $(BUILD)

install: build
	install -d $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/bing
	install -m 644 lua/bing/*.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/bing/
	install -m 755 $(CORE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/bing/core.so

clean:
	rm -rf build
