# optionhub: the two commands are `make run` and `make test`.
# Everything installs what it needs (the wasm32-wasip2 Rust target) on first use.

CARGO        ?= cargo
WASM_TARGET  := wasm32-wasip2
WASM_OUT     := target/$(WASM_TARGET)/release
# First-party plugins and the worked example: bundled, served by `make run`.
PLUGINS      := greeks-black76 oi-analytics strategy-valuation gamma-exposure
# Fixtures the tests load (hostile plugins and friends).
FIXTURES     := probe hostile wrong-world bad-selftest overreach
PLUGIN_DIR   ?= target/plugins
DATA_DIR     ?= data

.PHONY: all build run test bench plugins fixtures wasm-target lint fmt clean

all: build

wasm-target:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

## plugins: build the bundled plugins and install them into $(PLUGIN_DIR) (temp name, then rename)
plugins: wasm-target
	$(CARGO) build --release --target $(WASM_TARGET) $(addprefix -p ,$(PLUGINS))
	@mkdir -p $(PLUGIN_DIR)
	@for crate in $(PLUGINS); do \
	  file=$$(echo $$crate | tr - _).wasm; \
	  cp $(WASM_OUT)/$$file $(PLUGIN_DIR)/.$$file.tmp && mv $(PLUGIN_DIR)/.$$file.tmp $(PLUGIN_DIR)/$$file; \
	done
	@echo "plugins installed in $(PLUGIN_DIR)"

fixtures: wasm-target
	$(CARGO) build --release --target $(WASM_TARGET) $(addprefix -p ,$(PLUGINS) $(FIXTURES))
	$(CARGO) build --release --target $(WASM_TARGET) --target-dir target/probe-v2 -p probe --features probe/v2
	$(CARGO) build --release --target $(WASM_TARGET) --target-dir target/overreach-long-name -p overreach --features overreach/long-name

## build: the server (release) and the plugins
build: plugins
	$(CARGO) build --release -p optionhub

## run: build, then serve on 127.0.0.1:8000 with the bundled plugins hot-loadable from $(PLUGIN_DIR)
run: build
	./target/release/optionhub serve --plugins $(PLUGIN_DIR) --data $(DATA_DIR)

## test: every test: host (unit + integration), plugins, example, and the official
## dhanhq Python SDK against the simulator (wire compatibility; needs python3)
test: fixtures
	$(CARGO) test --workspace
	bash tests/dhan_sdk/run.sh target/debug/optionhub

## bench: criterion benchmarks (figures go in BENCHMARKS.md)
bench: fixtures
	$(CARGO) bench -p optionhub

lint: wasm-target
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target $(WASM_TARGET) $(addprefix -p ,$(PLUGINS) $(FIXTURES)) -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
