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

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

test-asan:
	$(MAKE) test PRESET=asan

# libFuzzer on the frame decoder (fuzz preset: clang, ASan+UBSan) for a
# bounded time; the corpus it grows stays in build/fuzz/corpus.
FUZZ_SECONDS ?= 60
fuzz: setup
	cmake --preset fuzz > /dev/null
	cmake --build --preset fuzz --target fuzz_frame_decoder -j $(JOBS)
	mkdir -p build/fuzz/corpus/frame_decoder
	build/fuzz/fuzz/fuzz_frame_decoder -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -dict=fuzz/frame_decoder.dict build/fuzz/corpus/frame_decoder

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format -i

format-check:
	find src tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

tidy: build
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf build
