# CMake toolchain file for bare-metal Cortex-M7 with Debian's gcc-arm-none-eabi
# and libnewlib-arm-none-eabi (firmware/, docs/firmware.md):
#
#   cmake -S firmware -B build/firmware -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake
#
# Cortex-M7 with the double-precision FPU (FPv5-D16) and the hard-float ABI,
# as QEMU's mps2-an500 board models it. C++ without exceptions or RTTI (the
# freestanding layers never need them). Every function and object gets its
# own section so the linker drops what nothing references. newlib-nano is the
# C library (memcpy, memset, ...) and nosys supplies syscall stubs that fail,
# so nothing that needs an operating system links by accident unnoticed.
# ARM_TOOLCHAIN_PREFIX overrides the tool prefix (default arm-none-eabi-).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

if(NOT DEFINED ARM_TOOLCHAIN_PREFIX)
  set(ARM_TOOLCHAIN_PREFIX arm-none-eabi-)
endif()
set(CMAKE_C_COMPILER ${ARM_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${ARM_TOOLCHAIN_PREFIX}g++)
set(CMAKE_ASM_COMPILER ${ARM_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_OBJCOPY ${ARM_TOOLCHAIN_PREFIX}objcopy CACHE FILEPATH "objcopy for the target")
set(CMAKE_SIZE ${ARM_TOOLCHAIN_PREFIX}size CACHE FILEPATH "size for the target")

# The compiler checks build a static library: a test executable could not link
# without the firmware's startup code and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(MCUSPLIT_ARM_CPU_FLAGS "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
set(CMAKE_C_FLAGS_INIT "${MCUSPLIT_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${MCUSPLIT_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti")
set(CMAKE_ASM_FLAGS_INIT "${MCUSPLIT_ARM_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "${MCUSPLIT_ARM_CPU_FLAGS} --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections")

# Headers and libraries come from the cross toolchain only, programs from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
