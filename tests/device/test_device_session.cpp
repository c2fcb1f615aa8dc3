// The device session every device runs (device/device_session.h), driven
// over the in-memory network by a scripted coordinator in the test thread:
// Ping and Pong, inferences bit-exact with Result and Stats, chunks of an
// earlier inference dropped, a Stop during a run abandoning it, a runtime
// failure and an unexpected command reported with an Error, an idle
// timeout, and the plan-acceptance checks on a good and a corrupt image.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "device/device_session.h"
#include "device/plan_acceptance.h"
#include "host/device_image_writer.h"
#include "host/device_slice.h"
#include "host/in_memory_network.h"
#include "host/session_clock.h"
#include "host/stats_message.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "plan/random_models.h"
#include "quant/int8_executor.h"

namespace mcusplit::host {
namespace {

using device::MessageType;
using device::SessionEnd;
using device::TransportStatus;
using std::chrono::milliseconds;

constexpr int kDevice = 0;
constexpr int kCoordinator = 1;

struct OneDevicePlan {
  quant::QGraph graph = plan::testing::random_cnn(3);
  plan::PlanFile file =
      provision_plan(plan::make_plan(graph, plan::parse_devices_shorthand("1xteensy41"), {}), graph);
  DeviceSlice device{file, kDevice};
  DeviceSlice coordinator{file, kCoordinator};
};

std::vector<int8_t> random_input(const quant::QGraph& g) {
  std::mt19937 gen(7);
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
  for (auto& v : in) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  return in;
}

// Device 0's session on its own thread, with host memory.
class SessionThread {
 public:
  SessionThread(const OneDevicePlan& p, InMemoryNetwork& net, uint32_t receive_timeout_ms,
                uint32_t idle_timeout_ms = 5000)
      : arena_(static_cast<size_t>(p.device.program().arena_bytes)),
        frame_(device::kDefaultMaxPayload),
        spans_(256),
        session_(net.endpoint(kDevice), clock_,
                 device::SessionMemory{arena_.data(), static_cast<int64_t>(arena_.size()),
                                       frame_.data(), static_cast<int64_t>(frame_.size()),
                                       device::RunRecords{spans_.data(), 256, nullptr, 0}},
                 receive_timeout_ms) {
    device::Reason why;
    EXPECT_TRUE(session_.load(p.device.program(), "dev0", &why)) << why.c_str();
    end_ = std::async(std::launch::async, [this, idle_timeout_ms] {
      return session_.serve(idle_timeout_ms);
    });
  }
  SessionEnd end() { return end_.get(); }
  const device::DeviceSession& session() const { return session_; }

 private:
  SteadySessionClock clock_;
  std::vector<int8_t> arena_;
  std::vector<int8_t> frame_;
  std::vector<device::SpanRecord> spans_;
  device::DeviceSession session_;
  std::future<SessionEnd> end_;
};

struct Received {
  device::FrameHeader header;
  std::vector<uint8_t> body;
};

Received next(device::SessionLink& link) {
  device::ControlMessage m;
  EXPECT_EQ(link.wait_control(&m, 5000), TransportStatus::Ok);
  return {m.header, std::vector<uint8_t>(m.payload, m.payload + m.payload_bytes)};
}

std::string error_text(const Received& r) {
  return std::string(r.body.begin() + device::kErrorCodeBytes, r.body.end());
}

// One inference from the coordinator's side: Start, its own program, then
// the device's Result and Stats (until the summary). Returns the output.
std::vector<int8_t> infer(const OneDevicePlan& p, device::SessionLink& link, uint32_t id,
                          const std::vector<int8_t>& input, StatRecords* summary) {
  link.begin_inference(id);
  EXPECT_EQ(link.send_control(MessageType::Start, kDevice, id, nullptr, 0), TransportStatus::Ok);
  const device::DeviceProgram& program = p.coordinator.program();
  std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
  std::vector<int8_t> frame(static_cast<size_t>(program.scratch_bytes + 1));
  std::vector<int8_t> output(static_cast<size_t>(
      p.graph.tensors[static_cast<size_t>(p.graph.output)].bytes()));
  device::DeviceRuntime runtime(program, arena.data(), program.arena_bytes, frame.data(),
                                static_cast<int64_t>(frame.size()), &link);
  EXPECT_EQ(runtime.run(input.data(), static_cast<int64_t>(input.size()), output.data(),
                        static_cast<int64_t>(output.size())),
            device::RuntimeStatus::Ok)
      << runtime.failure().detail;
  const Received result = next(link);
  EXPECT_EQ(result.header.type, MessageType::Result);
  EXPECT_EQ(result.header.inference_id, id);
  for (int frames = 0; frames < 100; ++frames) {
    const Received stats = next(link);
    EXPECT_EQ(stats.header.type, MessageType::Stats);
    const StatRecords r = decode_stats(stats.body);
    if (r.count(device::StatKey::TotalMicros) != 0) {
      *summary = r;
      break;
    }
  }
  return output;
}

TEST(DeviceSession, AnswersPingRunsInferencesAndStopsOnStop) {
  const OneDevicePlan p;
  InMemoryNetwork net(2, milliseconds(5000), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  device::SessionLink& coordinator = net.endpoint(kCoordinator);
  SessionThread device(p, net, 5000);

  const uint8_t hello[3] = {1, 2, 3};
  coordinator.send_control(MessageType::Ping, kDevice, device::kNoInference, hello, 3);
  const Received pong = next(coordinator);
  EXPECT_EQ(pong.header.type, MessageType::Pong);
  EXPECT_EQ(pong.body, std::vector<uint8_t>(hello, hello + 3));

  const std::vector<int8_t> input = random_input(p.graph);
  const std::vector<int8_t> expected = quant::Int8Executor(p.graph).run(input);
  for (uint32_t id = 1; id <= 2; ++id) {
    StatRecords summary;
    EXPECT_EQ(infer(p, coordinator, id, input, &summary), expected) << "inference " << id;
    EXPECT_GT(summary[device::StatKey::BytesReceived], 0u);
    EXPECT_GT(summary[device::StatKey::BytesSent], 0u);
    EXPECT_EQ(summary[device::StatKey::PeakArenaBytes],
              static_cast<uint64_t>(p.device.program().arena_bytes));
    EXPECT_EQ(summary.count(device::StatKey::ClockHz), 0u) << "host clocks send no ClockHz";
  }
  // A Stop of an inference that is not running changes nothing.
  coordinator.send_control(MessageType::Stop, kDevice, 2, nullptr, 0);
  coordinator.send_control(MessageType::Stop, kDevice, device::kNoInference, nullptr, 0);
  EXPECT_EQ(device.end(), SessionEnd::Shutdown);
  EXPECT_EQ(device.session().inferences(), 2u);
}

TEST(DeviceSession, DropsChunksOfAnEarlierInference) {
  const OneDevicePlan p;
  InMemoryNetwork net(2, milliseconds(5000), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  device::SessionLink& coordinator = net.endpoint(kCoordinator);
  SessionThread device(p, net, 5000);
  // A chunk and a grant left over from inference 4, which the device never
  // ran: inference 5 must not take them for its own.
  coordinator.begin_inference(4);
  device::ChunkHeader stale;
  stale.source = kCoordinator;
  stale.destination = kDevice;
  stale.tensor = p.graph.input;
  stale.box = core::Box{0, 1, 0, 1, 0, 1};
  stale.message_bytes = 1;
  stale.payload_bytes = 1;
  const int8_t junk = 99;
  ASSERT_EQ(coordinator.send_chunk(stale, &junk), TransportStatus::Ok);
  ASSERT_EQ(coordinator.grant_credit(kDevice, 1 << 20), TransportStatus::Ok);

  const std::vector<int8_t> input = random_input(p.graph);
  StatRecords summary;
  EXPECT_EQ(infer(p, coordinator, 5, input, &summary), quant::Int8Executor(p.graph).run(input));
  coordinator.send_control(MessageType::Stop, kDevice, device::kNoInference, nullptr, 0);
  EXPECT_EQ(device.end(), SessionEnd::Shutdown);
  EXPECT_EQ(net.undelivered_events(), 0);
}

TEST(DeviceSession, StopDuringARunAbandonsItAndSaysWhere) {
  const OneDevicePlan p;
  InMemoryNetwork net(2, milliseconds(5000), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  device::SessionLink& coordinator = net.endpoint(kCoordinator);
  SessionThread device(p, net, 5000);
  coordinator.begin_inference(1);
  // Started, but the coordinator never sends the input: the device waits in
  // its first Receive until the Stop.
  coordinator.send_control(MessageType::Start, kDevice, 1, nullptr, 0);
  std::this_thread::sleep_for(milliseconds(50));
  coordinator.send_control(MessageType::Stop, kDevice, 1, nullptr, 0);
  const Received stats = next(coordinator);
  ASSERT_EQ(stats.header.type, MessageType::Stats);
  const StatRecords r = decode_stats(stats.body);
  ASSERT_EQ(r.count(device::StatKey::StoppedAtOp), 1u);
  // Still serving: a Ping is answered.
  coordinator.send_control(MessageType::Ping, kDevice, device::kNoInference, nullptr, 0);
  EXPECT_EQ(next(coordinator).header.type, MessageType::Pong);
  coordinator.send_control(MessageType::Stop, kDevice, device::kNoInference, nullptr, 0);
  EXPECT_EQ(device.end(), SessionEnd::Shutdown);
  EXPECT_EQ(device.session().inferences(), 0u);
}

TEST(DeviceSession, ReportsARuntimeFailureWithStatsAndAnError) {
  const OneDevicePlan p;
  // The device's receives time out quickly; its input never comes.
  InMemoryNetwork net(2, milliseconds(200), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  device::SessionLink& coordinator = net.endpoint(kCoordinator);
  SessionThread device(p, net, 200);
  coordinator.begin_inference(1);
  coordinator.send_control(MessageType::Start, kDevice, 1, nullptr, 0);
  const Received stopped = next(coordinator);
  ASSERT_EQ(stopped.header.type, MessageType::Stats);
  EXPECT_EQ(decode_stats(stopped.body).count(device::StatKey::StoppedAtOp), 1u);
  const Received error = next(coordinator);
  ASSERT_EQ(error.header.type, MessageType::Error);
  EXPECT_EQ(device::load_le32(error.body.data()),
            static_cast<uint32_t>(device::ErrorCode::RuntimeFailed));
  const std::string text = error_text(error);
  EXPECT_NE(text.find("device 'dev0' failed at op "), std::string::npos) << text;
  EXPECT_NE(text.find("timed out after 200 ms"), std::string::npos) << text;
  EXPECT_EQ(device.end(), SessionEnd::RuntimeFailed);
  EXPECT_EQ(std::string(device.session().message()), text);
}

TEST(DeviceSession, RefusesAnUnexpectedCommand) {
  const OneDevicePlan p;
  InMemoryNetwork net(2, milliseconds(5000), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  device::SessionLink& coordinator = net.endpoint(kCoordinator);
  SessionThread device(p, net, 5000);
  coordinator.send_control(MessageType::Result, kDevice, 1, nullptr, 0);
  const Received error = next(coordinator);
  ASSERT_EQ(error.header.type, MessageType::Error);
  EXPECT_EQ(device::load_le32(error.body.data()),
            static_cast<uint32_t>(device::ErrorCode::UnexpectedMessage));
  EXPECT_NE(error_text(error).find("device 'dev0': unexpected result message"),
            std::string::npos)
      << error_text(error);
  EXPECT_EQ(device.end(), SessionEnd::Unexpected);
}

TEST(DeviceSession, EndsIdleWhenNoCommandComes) {
  const OneDevicePlan p;
  InMemoryNetwork net(2, milliseconds(5000), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  SessionThread device(p, net, 5000, 100);
  EXPECT_EQ(device.end(), SessionEnd::Idle);
  EXPECT_NE(std::string(device.session().message()).find("no command from the coordinator within 100 ms"),
            std::string::npos);
}

TEST(DeviceSession, EndsWhenTheLinkCloses) {
  const OneDevicePlan p;
  InMemoryNetwork net(2, milliseconds(5000), static_cast<int32_t>(p.file.plan.max_payload_bytes));
  SessionThread device(p, net, 5000);
  net.close();
  EXPECT_EQ(device.end(), SessionEnd::LinkFailed);
  EXPECT_NE(std::string(device.session().message()).find("failed between inferences"),
            std::string::npos);
}

// The checks a device makes of its image and its greeting.
TEST(PlanAcceptance, TakesAGoodImageAndRefusesACorruptOrOversizedOne) {
  const OneDevicePlan p;
  std::vector<uint8_t> bytes = write_participant_image(p.file, kDevice);
  std::vector<uint32_t> aligned((bytes.size() + 3) / 4);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  auto storage = std::make_unique<device::DeviceImageStorage>();
  device::ParsedImage image;
  ASSERT_EQ(device::parse_device_image(reinterpret_cast<const uint8_t*>(aligned.data()),
                                       bytes.size(), storage.get(), &image),
            device::ImageStatus::Ok);
  device::Reason why;
  EXPECT_TRUE(device::image_fits(image, device::DeviceCapacity{}, &why)) << why.c_str();
  EXPECT_TRUE(device::greeting_matches(image, kCoordinator, kDevice, p.file.hash, &why))
      << why.c_str();

  device::DeviceCapacity small;
  small.arena_bytes = 100;
  small.holder = "worker";
  small.setting = "--ram";
  EXPECT_FALSE(device::image_fits(image, small, &why));
  EXPECT_NE(std::string(why.c_str()).find("its arena needs " +
                                          std::to_string(image.program.arena_bytes) +
                                          " bytes, this worker has 100 (--ram)"),
            std::string::npos)
      << why.c_str();

  device::Reason wrong;
  EXPECT_FALSE(device::greeting_matches(image, kCoordinator, kDevice, p.file.hash ^ 1, &wrong));
  EXPECT_NE(std::string(wrong.c_str()).find("but the coordinator runs plan"), std::string::npos);
  device::Reason other;
  EXPECT_FALSE(device::greeting_matches(image, kCoordinator, 3, p.file.hash, &other));
  EXPECT_NE(std::string(other.c_str()).find("addressed participant 3"), std::string::npos);

  // A flipped bit: the parser refuses it and the reason names the check.
  reinterpret_cast<uint8_t*>(aligned.data())[bytes.size() / 2] ^= 0x40;
  device::ParsedImage corrupt;
  const device::ImageStatus status = device::parse_device_image(
      reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size(), storage.get(), &corrupt);
  ASSERT_NE(status, device::ImageStatus::Ok);
  device::Reason problem;
  device::add_image_problem(problem, status, corrupt);
  device::Reason refusal;
  device::refusal_text("", kDevice, problem, &refusal);
  EXPECT_NE(std::string(refusal.c_str())
                .find("device (participant 0) refused the plan: its device image is unusable: "),
            std::string::npos)
      << refusal.c_str();
}

}  // namespace
}  // namespace mcusplit::host
