// `mcusplit zoo mobilenetv2 ... -o FILE.onnx`
#include <fmt/core.h>

#include "cli/commands.h"
#include "model/onnx_writer.h"
#include "model/zoo_mobilenetv2.h"

namespace mcusplit::cli {

void add_zoo_command(CLI::App& app) {
  auto* zoo = app.add_subcommand("zoo", "Write a model from the built-in zoo as an ONNX file");
  zoo->require_subcommand(1);

  auto* mnv2 = zoo->add_subcommand("mobilenetv2", "torchvision's MobileNetV2, seeded weights");
  auto options = std::make_shared<model::MobileNetV2Options>();
  auto output = std::make_shared<std::string>();
  mnv2->add_option("--width", options->width, "Width multiplier")->capture_default_str();
  mnv2->add_option("--resolution", options->resolution, "Input height and width")
      ->capture_default_str();
  mnv2->add_option("--classes", options->classes, "Number of output classes")
      ->capture_default_str();
  mnv2->add_option("--seed", options->seed, "Seed of the weights")->capture_default_str();
  mnv2->add_option("-o,--output", *output, "ONNX file to write")->required();
  mnv2->callback([options, output] {
    const auto proto = model::make_mobilenetv2(*options);
    model::write_onnx_file(proto, *output);
    fmt::print("wrote {} (MobileNetV2 width {} resolution {} classes {} seed {})\n", *output,
               options->width, options->resolution, options->classes, options->seed);
  });
}

}  // namespace mcusplit::cli
