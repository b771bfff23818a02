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

.PHONY: all build run test bench plugins fixtures wasm-target lint fmt clean fuzz-smoke soak

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

## run: build, then serve on 127.0.0.1:8000 with the bundled plugins hot-loadable from $(PLUGIN_DIR);
## the simulator (no Dhan credentials) trades around the clock so dev work sees moving data
run: build
	./target/release/optionhub serve --plugins $(PLUGIN_DIR) --data $(DATA_DIR) --sim-always-open

## test: every test: host (unit + integration), plugins, example, the official
## dhanhq Python SDK against the simulator (wire compatibility; needs python3), and
## deploy/ (compose, Prometheus rules, Grafana; installs its tools on first use), and
## schemathesis against /openapi.json (the contract; about 5 minutes; needs python3)
test: fixtures plugins
	$(CARGO) test --workspace
	bash tests/dhan_sdk/run.sh target/debug/optionhub
	bash tests/deploy/check.sh
	bash tests/schemathesis/run.sh target/debug/optionhub

## bench: criterion benchmarks (figures go in BENCHMARKS.md)
bench: fixtures
	$(CARGO) bench -p optionhub

## fuzz-smoke: each cargo-fuzz target for $(FUZZ_SECONDS) s (needs a nightly toolchain;
## installs cargo-fuzz from crates.io on first use). Crashes land in host/fuzz/artifacts/.
FUZZ_TARGETS := decode_frame scrip_master ws_request strategy_body
FUZZ_SECONDS ?= 60
fuzz-smoke:
	@rustup toolchain list | grep -q '^nightly' || { echo "fuzz-smoke needs a nightly toolchain (rustup toolchain install nightly)"; exit 1; }
	@cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
	cd host/fuzz && cargo +nightly fuzz build
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p host/fuzz/corpus/$$target; \
	  seeds=$$( [ $$target = scrip_master ] && echo ../../crates/instruments/tests/fixtures/scrip_master ); \
	  echo "== $$target: $(FUZZ_SECONDS) s"; \
	  log=host/fuzz/$$target.log; \
	  (cd host/fuzz && cargo +nightly fuzz run $$target corpus/$$target $$seeds -- \
	     -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1) >$$log 2>&1; status=$$?; \
	  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|Done )' $$log; \
	  [ $$status -eq 0 ] || { tail -n 40 $$log; exit 1; }; \
	done

## soak: a 20-minute mixed run against a release server (not in CI); figures go in BENCHMARKS.md
soak: wasm-target
	bash tests/soak/run.sh $(SOAK_SECONDS)

lint: wasm-target
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target $(WASM_TARGET) $(addprefix -p ,$(PLUGINS) $(FIXTURES)) -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
