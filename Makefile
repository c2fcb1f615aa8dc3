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

# libFuzzer on the frame decoder (fuzz preset: clang, ASan+UBSan) for a
# bounded time; the corpus it grows stays in build/fuzz/corpus, seeded from
# fuzz/corpus/TARGET where one is committed.
# FUZZ_TARGET=device_image fuzzes the device image parser instead,
# FUZZ_TARGET=tflite the TFLite reader and importer.
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= frame_decoder
fuzz: setup
	cmake --preset fuzz > /dev/null
	cmake --build --preset fuzz --target fuzz_$(FUZZ_TARGET) -j $(JOBS)
	mkdir -p build/fuzz/corpus/$(FUZZ_TARGET)
	build/fuzz/fuzz/fuzz_$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -dict=fuzz/$(FUZZ_TARGET).dict build/fuzz/corpus/$(FUZZ_TARGET) $(wildcard fuzz/corpus/$(FUZZ_TARGET))

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format -i

format-check:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

tidy: build
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf build
