# Entry points. Each target installs what it needs (scripts/setup.sh is
# idempotent), configures with a CMake preset and builds.
PRESET ?= release
JOBS ?= $(shell nproc)
BUILD_DIR := build/$(PRESET)

.PHONY: all setup build demo test test-asan format format-check tidy clean

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

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

format-check:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

tidy: build
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf build
