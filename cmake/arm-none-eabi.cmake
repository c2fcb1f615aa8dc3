# CMake toolchain file for bare-metal Cortex-M with Debian's gcc-arm-none-eabi
# and libnewlib-arm-none-eabi (firmware/, docs/firmware.md):
#
#   cmake -S firmware -B build/firmware -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
#         [-DMCUSPLIT_FW_BOARD=an385|an386|an500|an505]
#
# The core and its FPU are the board's (firmware/boards/<board>.cmake, default
# an500: a Cortex-M7 with FPv5-D16 and the hard-float ABI; an385: a Cortex-M3
# with the soft-float ABI). C++ without exceptions or RTTI (the
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

if(NOT MCUSPLIT_FW_BOARD)
  set(MCUSPLIT_FW_BOARD an500)
endif()
# The compiler checks (try_compile) read this file again: give them the board.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MCUSPLIT_FW_BOARD)
set(mcusplit_board_file ${CMAKE_CURRENT_LIST_DIR}/../firmware/boards/${MCUSPLIT_FW_BOARD}.cmake)
if(NOT EXISTS ${mcusplit_board_file})
  message(FATAL_ERROR "MCUSPLIT_FW_BOARD=${MCUSPLIT_FW_BOARD}: no firmware/boards/${MCUSPLIT_FW_BOARD}.cmake "
                      "(boards: an385, an386, an500, an505)")
endif()
include(${mcusplit_board_file})
set(MCUSPLIT_ARM_CPU_FLAGS "${FW_BOARD_CPU_FLAGS}")
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
