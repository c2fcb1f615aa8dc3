# Entry points. Each target installs what it needs (scripts/setup.sh is
# idempotent), configures with a CMake preset and builds.
PRESET ?= release
JOBS ?= $(shell nproc)
BUILD_DIR := build/$(PRESET)

.PHONY: all setup build demo test test-asan fuzz format format-check tidy clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	cmake --preset $(PRESET) -DMCUSPLIT_WERROR=ON > /dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)

# The demo builds only what it runs (the mcusplit command, and the device
# firmware when the cross compiler is installed) and shows its results, not
# the build: set-up, configure and build output go to $(DEMO_LOG), whose tail
# is shown only if they fail.
DEMO_LOG := build/demo-build.log
demo:
	@mkdir -p build
	@{ bash scripts/setup.sh && \
	   cmake --preset $(PRESET) -DMCUSPLIT_WERROR=ON && \
	   cmake --build --preset $(PRESET) --target mcusplit -j $(JOBS); } > $(DEMO_LOG) 2>&1 || \
	  { tail -n 40 $(DEMO_LOG); echo "make demo: the build failed; its log: $(DEMO_LOG)"; exit 1; }
	@echo "make demo: built $(BUILD_DIR)/src/mcusplit (build log: $(DEMO_LOG))"
	@bash scripts/demo.sh $(BUILD_DIR)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

test-asan:
	$(MAKE) test PRESET=asan

# libFuzzer (fuzz preset: clang, ASan+UBSan) on every decoder for
# FUZZ_SECONDS each, or on one: FUZZ_TARGET=mq make fuzz (docs/fuzzing.md
# lists the targets). Each grows its corpus in build/fuzz/corpus/TARGET,
# seeded from fuzz/corpus/TARGET, with the dictionary fuzz/TARGET.dict; a
# crash stops the run and leaves its input in build/fuzz/fuzz_TARGET-crash-*.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := frame_decoder serial_frame_reader device_image tflite onnx mq plan_file \
                cluster_json
FUZZ_TARGET ?= $(FUZZ_TARGETS)
fuzz: setup
	cmake --preset fuzz > /dev/null
	cmake --build --preset fuzz --target $(addprefix fuzz_,$(FUZZ_TARGET)) -j $(JOBS)
	@for t in $(FUZZ_TARGET); do \
	  echo "make fuzz: fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  mkdir -p build/fuzz/corpus/$$t; \
	  dict=; if [ -f fuzz/$$t.dict ]; then dict=-dict=fuzz/$$t.dict; fi; \
	  seeds=; if [ -d fuzz/corpus/$$t ]; then seeds=fuzz/corpus/$$t; fi; \
	  UBSAN_OPTIONS=print_stacktrace=1 build/fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/fuzz_$$t- $$dict \
	    build/fuzz/corpus/$$t $$seeds || exit 1; \
	done

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format -i

format-check:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

tidy: build
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf build
