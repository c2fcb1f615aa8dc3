# Sourced by the firmware test runners: exits 77 (the ctest skip code) unless
# arm-none-eabi-g++ and QEMU exist and the main build made the firmware in
# $build/firmware-device (on CI: exits 1, tests/support/skip_or_fail.sh). Sets
# $qemu and $fw_dir. Needs $build and $runner.
. "$(dirname "${BASH_SOURCE[0]}")/../support/skip_or_fail.sh"
qemu="${MCUSPLIT_QEMU:-qemu-system-arm}"
for tool in arm-none-eabi-g++ "$qemu"; do
  if ! command -v "$tool" > /dev/null; then
    skip_or_fail "$runner: $tool not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"
  fi
done
fw_dir="$build/firmware-device"
if [ ! -f "$fw_dir/mcusplit_fw_device.elf" ] || [ ! -f "$fw_dir/mcusplit_fw_echo.elf" ]; then
  skip_or_fail "$runner: the firmware was not built in $fw_dir (configure with -DMCUSPLIT_BUILD_FIRMWARE=ON)"
fi
