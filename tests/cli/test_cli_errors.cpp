// Bad input on the command line: one clear line on stderr and exit code 2.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/cli_runner.h"

namespace mcusplit::testing {
namespace {

const std::string kNodeTests = ONNX_NODE_TEST_DIR;

void expect_one_line_error(const CliResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(CliErrors, UnknownFlag) {
  ScratchDir dir("unknown_flag");
  expect_one_line_error(run_cli("inspect x.onnx --no-such-flag", dir), "--no-such-flag");
}

TEST(CliErrors, UnknownVerb) {
  ScratchDir dir("unknown_verb");
  expect_one_line_error(run_cli("frobnicate", dir), "frobnicate");
}

TEST(CliErrors, MissingModelFile) {
  ScratchDir dir("missing");
  expect_one_line_error(run_cli("inspect '" + dir.file("absent.onnx") + "'", dir), "absent.onnx");
}

TEST(CliErrors, RandomBytes) {
  ScratchDir dir("random");
  const std::string path = dir.file("random.onnx");
  std::ofstream f(path, std::ios::binary);
  for (int i = 0; i < 4096; ++i) f.put(static_cast<char>((i * 2654435761u) >> 13));
  f.close();
  expect_one_line_error(run_cli("inspect '" + path + "'", dir), "random.onnx");
}

TEST(CliErrors, TruncatedModel) {
  ScratchDir dir("truncated");
  const std::string bytes =
      read_text_file(kNodeTests + "/test_conv_with_strides_padding/model.onnx");
  ASSERT_GT(bytes.size(), 40u);
  const std::string path = dir.file("truncated.onnx");
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_one_line_error(run_cli("inspect '" + path + "'", dir), "truncated.onnx");
}

TEST(CliErrors, UnsupportedOperatorNamesNodeOpAndOpset) {
  ScratchDir dir("unsupported");
  const CliResult r = run_cli("inspect '" + kNodeTests + "/test_abs/model.onnx'", dir);
  expect_one_line_error(r, "Abs");
  EXPECT_NE(r.err.find("opset"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Conv"), std::string::npos) << "should list what is supported: " << r.err;
}

TEST(CliErrors, WrongInputShape) {
  ScratchDir dir("wrong_shape");
  // test_relu takes [3, 4, 5]; feed it the [1, 1, 5, 5] input of a conv case.
  const CliResult r =
      run_cli("infer '" + kNodeTests + "/test_relu/model.onnx' --input '" + kNodeTests +
                  "/test_basic_conv_with_padding/test_data_set_0/input_0.pb'",
              dir);
  expect_one_line_error(r, "[3, 4, 5]");
}

TEST(CliErrors, UndecodableInputFile) {
  ScratchDir dir("bad_image");
  const std::string path = dir.file("not_an_image.png");
  std::ofstream(path) << "this is neither an image nor a tensor";
  const CliResult r =
      run_cli("infer '" + kNodeTests + "/test_relu/model.onnx' --input '" + path + "'", dir);
  expect_one_line_error(r, "not_an_image.png");
}

TEST(CliErrors, WrongInputCount) {
  ScratchDir dir("input_count");
  const std::string in = kNodeTests + "/test_relu/test_data_set_0/input_0.pb";
  const CliResult r = run_cli(
      "infer '" + kNodeTests + "/test_relu/model.onnx' --input '" + in + "' --input '" + in + "'",
      dir);
  expect_one_line_error(r, "input");
}

TEST(CliErrors, FailedRunLeavesExistingOutputUntouched) {
  ScratchDir dir("keep_output");
  const std::string out = dir.file("keep.pb");
  std::ofstream(out) << "precious";
  const CliResult r = run_cli("infer '" + kNodeTests + "/test_relu/model.onnx' --input '" +
                                  dir.file("absent.pb") + "' --output '" + out + "'",
                              dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(read_text_file(out), "precious");
}

}  // namespace
}  // namespace mcusplit::testing

namespace mcusplit::testing {
namespace {

TEST(CliErrors, EvalWithSwappedIdxFiles) {
  ScratchDir dir("eval_swapped");
  const std::string data = FASHION_MNIST_DIR;
  const std::string model = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
  const CliResult r =
      run_cli("eval '" + model + "' --idx '" + data + "/t10k-labels-idx1-ubyte.gz' '" + data +
                  "/t10k-images-idx3-ubyte.gz'",
              dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("t10k-labels-idx1-ubyte.gz"), std::string::npos) << r.err;
}

TEST(CliErrors, EvalModelThatDoesNotTakeTheImages) {
  ScratchDir dir("eval_shape");
  const std::string data = FASHION_MNIST_DIR;
  const std::string model = dir.file("mnv2.onnx");
  ASSERT_EQ(
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 32 --classes 10 -o '" + model + "'", dir)
          .exit_code,
      0);
  const CliResult r =
      run_cli("eval '" + model + "' --limit 5 --idx '" + data + "/t10k-images-idx3-ubyte.gz' '" +
                  data + "/t10k-labels-idx1-ubyte.gz'",
              dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

}  // namespace
}  // namespace mcusplit::testing

namespace mcusplit::testing {
namespace {

// `run --link`, its shaping options and the modes they do not go with: one
// line and exit code 2, before any device starts.
TEST(CliErrors, RunLinkOptionsThatDoNotGoTogether) {
  ScratchDir dir("run_link");
  const std::string mq = make_small_mq(dir, 1);
  ASSERT_FALSE(mq.empty());
  const std::string plan = dir.file("two.plan");
  ASSERT_EQ(run_cli("plan '" + mq + "' --devices 2xteensy41 -o '" + plan + "'", dir).exit_code, 0);
  struct Case {
    const char* args;
    const char* needle;
  };
  for (const Case& c : {
           Case{"--link ethernet", "--link says how emulated devices are linked"},
           Case{"--targets qemu --loss 0.1", "--loss shapes the links of an emulated Ethernet"},
           Case{"--targets qemu --link uart --link-rate 1000", "--link-rate shapes the links"},
           Case{"--link-delay 5", "--link-delay shapes the links"},
           Case{"--targets qemu --link ethernet --loss 1", "--loss is the fraction of frames"},
           Case{"--targets qemu --link ethernet --loss -0.1", "--loss is the fraction of frames"},
           Case{"--targets qemu --link ethernet --link-rate 0", "--link-rate must be positive"},
           Case{"--targets qemu --link ethernet --link-delay -1",
                "--link-delay must be at least 0 ms"},
           Case{"--targets qemu --link ethernet --provision loader",
                "--provision loader does not go with --link ethernet"},
           Case{"--targets qemu --topology switched", "star topology only"},
           Case{"--targets qemu --link uart --topology switched", "star topology only"},
           Case{"--targets qemu --link wifi", "wifi"},
           Case{"--targets qemu --link ethernet --link-rate fast", "fast"},
       }) {
    const CliResult r =
        run_cli("run '" + plan + "' --input '" + dir.file("absent.pgm") + "' " + c.args, dir);
    expect_one_line_error(r, c.needle);
  }
}

}  // namespace
}  // namespace mcusplit::testing

namespace mcusplit::testing {
namespace {

// `calibrate` that cannot run: an unknown board, no emulator, no firmware.
TEST(CliErrors, CalibrateThatCannotRun) {
  ScratchDir dir("calibrate");
  expect_one_line_error(run_cli("calibrate --board an521", dir),
                        "unknown board 'an521' (known: an385, an386, an500, an505)");
  expect_one_line_error(run_cli("calibrate --board an385 --firmware '" + dir.file("none.elf") + "'",
                                dir),
                        "none.elf' does not exist");
  const CliResult no_qemu = run_cli("calibrate --board an385 --firmware /dev/null -o '" +
                                        dir.file("out.json") + "'",
                                    dir, "MCUSPLIT_QEMU=no-such-qemu");
  expect_one_line_error(no_qemu, "the emulator 'no-such-qemu' was not found");
  EXPECT_FALSE(std::ifstream(dir.file("out.json")).good());
}

// A device planned onto a board whose firmware's arena is smaller than its
// plan needs: refused before any QEMU starts, naming the device, the board
// and both figures.
TEST(CliErrors, RunRefusesABoardTooSmallForItsDevice) {
  ScratchDir dir("board_ram");
  // MobileNetV2 0.35 at 96 on one device: its arena (48x48x96 of expansion
  // alone) exceeds the an385 firmware's 120,048 bytes.
  const std::string onnx = dir.file("m.onnx");
  const std::string mq = dir.file("m.mq");
  ASSERT_EQ(run_cli("zoo mobilenetv2 --width 0.35 --resolution 96 --classes 10 -o '" + onnx + "'",
                    dir)
                .exit_code,
            0);
  ASSERT_EQ(run_cli("quantize '" + onnx + "' --calib random --samples 1 -o '" + mq + "'", dir)
                .exit_code,
            0);
  const std::string cluster = dir.file("cluster.json");
  // an385's firmware has 128 KiB; this plan gives its device 16 MiB.
  std::ofstream(cluster) << R"({"devices": [{"profile": "an385", "ram_bytes": "16MiB"}]})";
  const std::string plan = dir.file("one.plan");
  ASSERT_EQ(run_cli("plan '" + mq + "' --cluster '" + cluster + "' -o '" + plan + "'", dir).exit_code,
            0);
  // The boards' firmware lies beside the binary's directory (BUILD/src).
  const std::string binary = MCUSPLIT_BINARY;
  const std::string build = binary.substr(0, binary.rfind('/', binary.rfind('/') - 1));
  if (!std::ifstream(build + "/firmware-an385/firmware_layout.env")) {
    GTEST_SKIP() << "built without the boards' firmware (no arm-none-eabi-g++)";
  }
  const CliResult r =
      run_cli("run '" + plan + "' --input '" + std::string(MCUSPLIT_SOURCE_DIR) +
                  "/tests/data/images/fashion_test1_pullover.pgm' --targets qemu --output '" +
                  dir.file("out.pb") + "'",
              dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("device 'an385-0' needs an arena of "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("but its board an385 (mps2-an385) has 131072 bytes of RAM, an arena of 120048"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::ifstream(dir.file("out.pb")).good());
}

}  // namespace
}  // namespace mcusplit::testing
