# QEMU 7.2's mps2-an385: a Cortex-M3 (no FPU, no DSP extension: the portable
# kernels) at 25 MHz (hw/arm/mps2.c). The one home of this board's facts: the
# toolchain file takes the CPU flags, firmware/CMakeLists.txt the rest (linker
# script, generated fw_board.h, firmware_layout.env). Checked on the running
# board: UART0's and the LAN9118's interrupts by the NVIC's pending bits, the
# clock by -icount (docs/firmware.md, "Boards").
set(FW_BOARD_QEMU_MACHINE mps2-an385)
set(FW_BOARD_CPU cortex-m3)
set(FW_BOARD_CPU_FLAGS "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
set(FW_BOARD_CPUID_PART 0xC23)      # CPUID's PARTNO: board_init checks the core
set(FW_BOARD_FPU 0)                     # no CP10/CP11 to enable at reset
set(FW_BOARD_CLOCK_HZ 25000000)         # SYSCLK: core, SysTick, timers, UART
set(FW_BOARD_DEFAULT_RAM_BYTES 131072)  # MCUSPLIT_FW_RAM_BYTES unless given
# ZBT SSRAM1 (4 MiB) holds code and the provisioning region; VTOR is 0 at reset.
set(FW_BOARD_CODE_ORIGIN 0x00000000)
set(FW_BOARD_CODE_BYTES 4194304)
set(FW_BOARD_RAM_ORIGIN 0x20000000)     # ZBT SSRAM2/3
set(FW_BOARD_RAM_REGION_BYTES 4194304)
set(FW_BOARD_UART0_BASE 0x40004000)     # -serial index 0
set(FW_BOARD_UART0_RX_IRQ 0)
set(FW_BOARD_DUAL_TIMER_BASE 0x40002000)
set(FW_BOARD_ETHERNET 1)
set(FW_BOARD_LAN9118_BASE 0x40200000)
set(FW_BOARD_LAN9118_IRQ 13)
set(FW_BOARD_IRQ_COUNT 32)              # the NVIC's external interrupts (num-irq)
