// A worker process's provisioning, from a scripted coordinator: it refuses a
// device image made for another plan (another model, or the same model
// planned differently), an image of another format version and a corrupted
// image, each with an Error frame whose text says why, and ends with an
// error instead of serving.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <future>
#include <string>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "host/device_image_writer.h"
#include "host/device_slice.h"
#include "host/provision_message.h"
#include "host/socket_io.h"
#include "host/socket_transport.h"
#include "host/worker.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "plan/random_models.h"

namespace mcusplit::host {
namespace {

using device::MessageType;
using device::TransportStatus;
using std::chrono::milliseconds;

plan::PlanFile planned(uint32_t seed, const char* devices) {
  const quant::QGraph g = plan::testing::random_cnn(seed);
  return provision_plan(plan::make_plan(g, plan::parse_devices_shorthand(devices), {}), g);
}

// Runs a worker in a thread, provisions device 0 with `image` in frames
// stamped `frame_hash`, and returns the Error text the worker answers with
// ("" if none) and, through `worker_error`, what run_worker threw.
std::string provision(const plan::PlanFile& file, const std::vector<uint8_t>& image,
                      uint64_t frame_hash, std::string* worker_error) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::FILE* announce = ::fdopen(fds[1], "w");
  WorkerOptions options;
  options.idle_timeout = milliseconds(5000);
  options.setup_timeout = milliseconds(5000);
  auto worker = std::async(std::launch::async, [&] {
    try {
      run_worker(options, announce);
    } catch (const Error& e) {
      *worker_error = e.what();
    }
    std::fclose(announce);
  });
  std::string line;
  char c = 0;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  const SocketAddress address = parse_address(line.substr(line.find(' ') + 1), "worker", false);

  SocketTransport coordinator(milliseconds(2000));
  coordinator.set_self(file.plan.coordinator());
  coordinator.set_plan_hash(frame_hash, 0);
  const Clock::time_point deadline = Clock::now() + milliseconds(5000);
  coordinator.connect_peer(0, connect_until(address, deadline), deadline);
  Provisioning p;
  p.image.assign(image.begin(), image.end());
  for (const plan::ParticipantPlan& pp : file.plan.participants) p.names.push_back(pp.name);
  for (int i = 0; i < file.plan.device_count(); ++i) p.addresses.push_back("127.0.0.1:1");
  const std::vector<uint8_t> body = encode_provisioning(p);
  EXPECT_EQ(coordinator.send_message(0, MessageType::Provision, device::kNoInference, body.data(),
                                     body.size()),
            TransportStatus::Ok);
  WireMessage answer;
  std::string text;
  if (coordinator.wait_control(&answer, Clock::now() + milliseconds(5000), 0) ==
          TransportStatus::Ok &&
      answer.type == MessageType::Error) {
    EXPECT_EQ(device::load_le32(answer.body.data()),
              static_cast<uint32_t>(device::ErrorCode::BadProvision));
    text.assign(answer.body.begin() + device::kErrorCodeBytes, answer.body.end());
  }
  worker.get();
  return text;
}

TEST(WorkerProvisioning, RefusesAnImageForAnotherPlan) {
  const plan::PlanFile mine = planned(3, "2xteensy41");
  const plan::PlanFile other_model = planned(4, "2xteensy41");
  std::string error;
  // The coordinator runs `mine` but hands over device 0 of another model's plan.
  const std::string text =
      provision(mine, write_participant_image(other_model, 0), mine.hash, &error);
  EXPECT_NE(text.find("device 'teensy41-0' refused the plan: its device image is for plan"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("but the coordinator runs plan"), std::string::npos) << text;
  EXPECT_NE(error.find("refused the plan"), std::string::npos) << error;
}

TEST(WorkerProvisioning, RefusesAnImageOfAnotherFormatVersionOrCorrupted) {
  const plan::PlanFile file = planned(3, "2xteensy41");
  std::vector<uint8_t> image = write_participant_image(file, 0);
  std::vector<uint8_t> newer = image;
  device::store_le32(newer.data() + device::kImageOffVersion, device::kImageFormatVersion + 1);
  std::string error;
  std::string text = provision(file, newer, file.hash, &error);
  EXPECT_NE(text.find("refused the plan: its device image is unusable: "), std::string::npos)
      << text;
  EXPECT_NE(text.find(device::device_image_status_name(device::ImageStatus::BadVersion)),
            std::string::npos)
      << text;

  std::vector<uint8_t> corrupt = image;
  corrupt[corrupt.size() / 2] ^= 0x40;
  error.clear();
  text = provision(file, corrupt, file.hash, &error);
  EXPECT_NE(text.find(device::device_image_status_name(device::ImageStatus::BadCrc)),
            std::string::npos)
      << text;
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace mcusplit::host
