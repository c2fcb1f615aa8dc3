# QEMU 7.2's mps2-an505: a Cortex-M33 (DSP extension, FPv5-SP, TrustZone) in
# an IoTKit subsystem at 20 MHz (hw/arm/mps2-tz.c, hw/arm/armsse.c). The one
# home of this board's facts: the toolchain file takes the CPU flags,
# firmware/CMakeLists.txt the rest (linker script, generated fw_board.h,
# firmware_layout.env). Checked on the running board: UART0's and the
# LAN9118's interrupts by the NVIC's pending bits, the clock by -icount.
#
# The core boots in Secure state and the firmware stays there, at the Secure
# aliases (address bit 28 set, what the IDAU calls Secure): with the SAU off
# every access is Secure, and the MPCs and PPCs reset to Secure for every
# block and port, so SSRAM, UART0, the timers and the LAN9118 answer without
# being programmed. Secure code fetched from a Non-secure alias (0x00000000)
# locks the core up. QEMU's -device loader reaches the Secure alias of the
# provisioning region (docs/firmware.md, "Boards").
set(FW_BOARD_QEMU_MACHINE mps2-an505)
set(FW_BOARD_CPU cortex-m33)
set(FW_BOARD_CPU_FLAGS "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16")
set(FW_BOARD_CPUID_PART 0xD21)      # CPUID's PARTNO: board_init checks the core
set(FW_BOARD_FPU 1)                     # CP10/CP11 enabled at reset
set(FW_BOARD_CLOCK_HZ 20000000)         # SYSCLK (MAINCLK): core, SysTick, timers, UART
set(FW_BOARD_DEFAULT_RAM_BYTES 262144)  # MCUSPLIT_FW_RAM_BYTES unless given
# ZBT SSRAM1 (4 MiB at 0x00000000) at its Secure alias, where the Secure VTOR
# points at reset (init-svtor).
set(FW_BOARD_CODE_ORIGIN 0x10000000)
set(FW_BOARD_CODE_BYTES 4194304)
# ZBT SSRAM2 and SSRAM3 (2 MiB each at 0x28000000, contiguous), Secure alias.
set(FW_BOARD_RAM_ORIGIN 0x38000000)
set(FW_BOARD_RAM_REGION_BYTES 4194304)
set(FW_BOARD_UART0_BASE 0x50200000)     # -serial index 0; RX IRQ 32 + 0
set(FW_BOARD_UART0_RX_IRQ 32)
set(FW_BOARD_DUAL_TIMER_BASE 0x50002000)  # the IoTKit's
set(FW_BOARD_ETHERNET 1)
set(FW_BOARD_LAN9118_BASE 0x52000000)
set(FW_BOARD_LAN9118_IRQ 48)            # 32 + expansion interrupt 16
set(FW_BOARD_IRQ_COUNT 96)              # the NVIC's external interrupts (ICTR: 65..96)
