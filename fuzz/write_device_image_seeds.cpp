// Writes the seeds of fuzz/corpus/device_image: every device's image of the
// plans given (the plan_file seeds: convolutions, pooling, a concat, a
// matmul, both topologies), as the coordinator provisions them, so that
// mutations start from whole, valid images. Each is parsed here before it is
// written: an image that no longer parses fails this program.
// Usage: write_device_image_seeds DIR PLAN...
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "host/device_image_writer.h"
#include "model/file_io.h"
#include "plan/plan_file.h"

namespace {

mcusplit::device::DeviceImageStorage g_storage;

std::string stem(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.substr(0, name.rfind('.'));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: write_device_image_seeds DIR PLAN...\n");
    return 2;
  }
  try {
    const std::string dir = argv[1];
    for (int a = 2; a < argc; ++a) {
      const mcusplit::plan::PlanFile file =
          mcusplit::plan::parse_plan(mcusplit::model::read_file_bytes(argv[a]), argv[a]);
      for (int i = 0; i < file.plan.device_count(); ++i) {
        const std::vector<uint8_t> image = mcusplit::host::write_participant_image(file, i);
        mcusplit::device::ParsedImage parsed;
        const auto status =
            mcusplit::device::parse_device_image(image.data(), image.size(), &g_storage, &parsed);
        if (status != mcusplit::device::ImageStatus::Ok) {
          std::fprintf(stderr, "%s device %d: the image does not parse\n", argv[a], i);
          return 1;
        }
        const std::string path = dir + "/" + stem(argv[a]) + "_device" + std::to_string(i) + ".img";
        mcusplit::model::write_file_atomically(path, std::string(image.begin(), image.end()),
                                               "seed ");
        std::printf("%s: %zu bytes\n", path.c_str(), image.size());
      }
    }
  } catch (const mcusplit::Error& e) {
    std::fprintf(stderr, "write_device_image_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
