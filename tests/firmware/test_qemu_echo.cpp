// The echo firmware (firmware/main.cpp) on QEMU's mps2-an500: the whole path
// from a host socket through the emulated UART0, the SerialFrameReader and
// the frame codec on the Cortex-M7, and back; exit codes through
// semihosting; the millisecond clock against host time; an image that QEMU
// loads into the provisioning region.
//
// Run by tests/firmware/run_qemu_tests.sh, which builds the firmware and sets
// MCUSPLIT_FW_BUILD_DIR (the firmware build directory: mcusplit_fw_echo.elf,
// firmware_layout.env). MCUSPLIT_QEMU names the emulator (default
// qemu-system-arm). Every QEMU is killed and reaped when its test ends, also
// on failure, and dies with this process (PR_SET_PDEATHSIG).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "device/serial_frame_reader.h"
#include "host/child_process.h"
#include "host/qemu_launcher.h"

namespace mcusplit::device {
namespace {

using Bytes = std::vector<uint8_t>;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{20000};
constexpr milliseconds kReplyTimeout{20000};
constexpr milliseconds kExitTimeout{10000};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// KEY=VALUE lines of firmware_layout.env.
std::map<std::string, std::string> read_layout(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// One QEMU process; its stdout and stderr (semihosting text, QEMU's own
// messages) are collected through a pipe. The destructor kills and reaps it
// if it is still running.
class Qemu {
 public:
  explicit Qemu(const std::vector<std::string>& extra_args) {
    const std::string build = env_or("MCUSPLIT_FW_BUILD_DIR", "");
    if (build.empty()) {
      ADD_FAILURE() << "MCUSPLIT_FW_BUILD_DIR is not set (run tests/firmware/run_qemu_tests.sh)";
      return;
    }
    const std::string qemu = host::find_program(env_or("MCUSPLIT_QEMU", "qemu-system-arm"));
    std::vector<std::string> args = host::qemu_command(qemu, build + "/mcusplit_fw_echo.elf");
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    try {
      // Dies with the test, even if the test is killed.
      const host::Child child = host::spawn_child(qemu, args, true, "QEMU");
      pid_ = child.pid;
      output_fd_ = child.output_fd;
    } catch (const mcusplit::Error& e) {
      ADD_FAILURE() << e.what();
    }
  }

  Qemu(const Qemu&) = delete;
  Qemu& operator=(const Qemu&) = delete;

  ~Qemu() {
    if (pid_ > 0 && !exit_status_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (output_fd_ >= 0) close(output_fd_);
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Reads QEMU's output until `pattern` matches it (returns the match) or
  // the deadline passes.
  std::optional<std::smatch> wait_output(const std::regex& pattern, Clock::time_point deadline) {
    for (;;) {
      std::smatch m;
      if (std::regex_search(output_, m, pattern)) return m;
      if (!read_output(deadline)) return std::nullopt;
    }
  }

  // The exit status once QEMU has exited (waits up to the deadline).
  std::optional<int> wait_exit(Clock::time_point deadline) {
    while (!exit_status_) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      // Keep draining the output so QEMU never blocks on a full pipe.
      read_output(std::min(deadline, Clock::now() + milliseconds(20)));
    }
    while (read_output(Clock::now() + milliseconds(200))) {
    }
    return exit_status_;
  }

  const std::string& output() const { return output_; }

 private:
  // False on timeout or end of output.
  bool read_output(Clock::time_point deadline) {
    if (output_fd_ < 0) return false;
    pollfd p{output_fd_, POLLIN, 0};
    if (poll(&p, 1, ms_left(deadline)) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(output_fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string output_;
  std::optional<int> exit_status_;
};

// The host end of UART0: a TCP connection to QEMU's serial socket, frames
// read through a SerialFrameReader (so the banner and anything else that is
// not a frame is skipped and counted, as on the device).
class Link {
 public:
  explicit Link(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    if (!connected_) error_ = std::strerror(errno);
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  ~Link() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }

  void send(const Bytes& b) {
    size_t done = 0;
    while (done < b.size()) {
      const ssize_t n = ::send(fd_, b.data() + done, b.size() - done, MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << "send: " << std::strerror(errno);
      done += static_cast<size_t>(n);
    }
  }

  // The first line the firmware prints (without CR LF).
  std::optional<std::string> read_line(Clock::time_point deadline) {
    for (;;) {
      const auto end = std::find(pending_.begin(), pending_.end(), '\n');
      if (end != pending_.end()) {
        std::string line(pending_.begin(), end);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        pending_.erase(pending_.begin(), end + 1);
        return line;
      }
      if (!receive(deadline)) return std::nullopt;
    }
  }

  struct Frame {
    FrameHeader header;
    Bytes payload;
    bool crc_ok = false;
  };

  // The next whole frame (good or with a bad payload CRC).
  std::optional<Frame> read_frame(Clock::time_point deadline) {
    Frame f;
    for (;;) {
      while (!pending_.empty()) {
        ReaderEvent ev;
        const size_t used = reader_.feed(pending_.data(), pending_.size(), &ev);
        if (ev.kind == ReaderEventKind::Header) {
          f = Frame{reader_.header(), {}, false};
        } else if (ev.kind == ReaderEventKind::Payload) {
          f.payload.insert(f.payload.end(), ev.data, ev.data + ev.size);
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(used));
        if (ev.kind == ReaderEventKind::FrameOk || ev.kind == ReaderEventKind::FrameBadCrc) {
          f.crc_ok = ev.kind == ReaderEventKind::FrameOk;
          return f;
        }
      }
      if (!receive(deadline)) return std::nullopt;
    }
  }

  const SerialFrameReader& reader() const { return reader_; }

 private:
  bool receive(Clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms_left(deadline)) <= 0) return false;
    uint8_t buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    pending_.insert(pending_.end(), buf, buf + n);
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string error_;
  Bytes pending_;
  SerialFrameReader reader_;
};

constexpr uint16_t kHost = 8;    // the coordinator of a 8-device plan
constexpr uint16_t kDevice = 3;  // the device the echo firmware plays

Bytes encode(const FrameHeader& h, const Bytes& payload) {
  Bytes out(frame_bytes_for(h.payload_bytes));
  const size_t n = encode_frame(h, payload.data(), out.data(), out.size());
  EXPECT_EQ(n, out.size());
  return out;
}

Bytes ping(uint32_t sequence, const Bytes& payload, uint32_t inference_id = kNoInference) {
  FrameHeader h;
  h.type = MessageType::Ping;
  h.source = kHost;
  h.destination = kDevice;
  h.inference_id = inference_id;
  h.sequence = sequence;
  h.message_bytes = static_cast<uint32_t>(payload.size());
  h.payload_bytes = h.message_bytes;
  return encode(h, payload);
}

Bytes stop(uint32_t sequence) {
  FrameHeader h;
  h.type = MessageType::Stop;
  h.source = kHost;
  h.destination = kDevice;
  h.inference_id = kNoInference;
  h.sequence = sequence;
  return encode(h, {});
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + 37 * i + (i >> 8));
  return b;
}

void expect_pong(const std::optional<Link::Frame>& f, uint32_t sequence, const Bytes& payload,
                 uint32_t inference_id = kNoInference) {
  ASSERT_TRUE(f.has_value()) << "no Pong within the timeout";
  EXPECT_TRUE(f->crc_ok);
  EXPECT_EQ(f->header.type, MessageType::Pong);
  EXPECT_EQ(f->header.source, kDevice);
  EXPECT_EQ(f->header.destination, kHost);
  EXPECT_EQ(f->header.inference_id, inference_id);
  EXPECT_EQ(f->header.sequence, sequence);
  EXPECT_EQ(f->header.plan_hash, 0u);
  EXPECT_EQ(f->payload, payload);
}

// Starts QEMU and connects to its UART0; the firmware starts running when
// the connection is accepted (wait=on).
struct Session {
  explicit Session(const std::vector<std::string>& extra_args = {}) : qemu(extra_args) {}

  void open() {
    ASSERT_TRUE(qemu.started());
    const auto port = qemu.wait_output(
        std::regex("waiting for connection on: [a-z]*:?tcp:127\\.0\\.0\\.1:([0-9]+),server"),
        Clock::now() + kStartTimeout);
    ASSERT_TRUE(port.has_value()) << "QEMU did not listen; its output:\n" << qemu.output();
    link.emplace(static_cast<uint16_t>(std::stoi((*port)[1].str())));
    ASSERT_TRUE(link->connected())
        << "connect to port " << (*port)[1].str() << ": " << link->error() << "; QEMU output:\n"
        << qemu.output();
    started = Clock::now();
    const auto line = link->read_line(Clock::now() + kStartTimeout);
    ASSERT_TRUE(line.has_value()) << "no banner; QEMU output:\n" << qemu.output();
    banner = *line;
  }

  Qemu qemu;
  std::optional<Link> link;
  std::string banner;
  Clock::time_point started;
};

std::string banner_field(const std::string& banner, const std::string& key) {
  std::smatch m;
  const std::regex re(" " + key + "=([^ ]+)");
  return std::regex_search(banner, m, re) ? m[1].str() : std::string("(missing)");
}

TEST(FirmwareEcho, PingsThroughGarbageArePongedAndStopExitsWithZero) {
  const auto layout = read_layout(env_or("MCUSPLIT_FW_BUILD_DIR", ".") + "/firmware_layout.env");
  Session s;
  ASSERT_NO_FATAL_FAILURE(s.open());

  // The banner reports the linker script's layout.
  EXPECT_EQ(s.banner.rfind("mcusplit-fw echo:", 0), 0u) << s.banner;
  EXPECT_EQ(banner_field(s.banner, "ram_budget"), layout.at("RAM_BYTES"));
  EXPECT_EQ(banner_field(s.banner, "arena"), layout.at("ARENA_BYTES"));
  EXPECT_EQ(banner_field(s.banner, "stack"), layout.at("STACK_BYTES"));
  EXPECT_LE(std::stoul(banner_field(s.banner, "static_ram")), std::stoul(layout.at("RAM_BYTES")));
  EXPECT_EQ(banner_field(s.banner, "head"), std::string(32, '0'));  // nothing loaded

  uint64_t garbage = 0;
  auto send_garbage = [&](const Bytes& junk) {
    s.link->send(junk);
    garbage += junk.size();
  };

  // Garbage, a false magic with part of a header, then a Ping.
  Bytes fake = {'M', 'S', 'P', 'F', 1, 9, 0, 0, 0x42, 0x42};
  send_garbage({'h', 'e', 'l', 'l', 'o', '\r', '\n', 0x00, 0xff, 'M', 'S'});
  send_garbage(fake);
  const Bytes small = pattern(8, 1);
  s.link->send(ping(0, small));
  expect_pong(s.link->read_frame(Clock::now() + kReplyTimeout), 0, small);

  // A full-size Ping, sent in uneven pieces with a magic prefix before it.
  send_garbage({'M', 'S', 'P'});
  const Bytes big = pattern(kDefaultMaxPayload, 7);
  const Bytes frame = ping(1, big, 42);
  for (size_t at = 0; at < frame.size(); at += 333) {
    s.link->send(Bytes(frame.begin() + static_cast<ptrdiff_t>(at),
                       frame.begin() + static_cast<ptrdiff_t>(std::min(at + 333, frame.size()))));
  }
  expect_pong(s.link->read_frame(Clock::now() + kReplyTimeout), 1, big, 42);

  // A corrupted payload: the device answers with Error BadFrame.
  Bytes bad = ping(2, pattern(16, 3));
  bad[kHeaderBytes + 5] ^= 0x20;
  s.link->send(bad);
  const auto err = s.link->read_frame(Clock::now() + kReplyTimeout);
  ASSERT_TRUE(err.has_value());
  EXPECT_TRUE(err->crc_ok);
  EXPECT_EQ(err->header.type, MessageType::Error);
  EXPECT_EQ(err->header.sequence, 2u);
  EXPECT_EQ(err->header.destination, kHost);
  ASSERT_GE(err->payload.size(), kErrorCodeBytes);
  EXPECT_EQ(load_le32(err->payload.data()), static_cast<uint32_t>(ErrorCode::BadFrame));
  EXPECT_EQ(std::string(err->payload.begin() + kErrorCodeBytes, err->payload.end()),
            "bad payload crc");

  // Let the device's clock run a known time, then stop it.
  const milliseconds pause{400};
  std::this_thread::sleep_for(pause);
  s.link->send(stop(3));
  const auto status = s.qemu.wait_exit(Clock::now() + kExitTimeout);
  const auto host_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - s.started).count();
  ASSERT_TRUE(status.has_value()) << "QEMU still running after Stop; output:\n" << s.qemu.output();
  EXPECT_EQ(*status, 0) << s.qemu.output();

  // The device's own account (semihosting): every frame and every garbage
  // byte it saw, and its uptime on the SysTick/dual-timer clock.
  std::smatch m;
  const std::string& out = s.qemu.output();
  ASSERT_TRUE(std::regex_search(
      out, m,
      std::regex("stop: frames_ok=([0-9]+) frames_bad_crc=([0-9]+) headers_rejected=([0-9]+) "
                 "garbage_bytes=([0-9]+) bytes=([0-9]+) uptime_ms=([0-9]+) "
                 "stack_high_water=([0-9]+)")))
      << out;
  std::printf("device: %s\n", m[0].str().c_str());
  EXPECT_EQ(std::stoull(m[1]), 3u);  // two Pings and the Stop
  EXPECT_EQ(std::stoull(m[2]), 1u);
  EXPECT_EQ(std::stoull(m[4]), garbage);
  const uint64_t uptime = std::stoull(m[6]);
  EXPECT_GE(uptime, static_cast<uint64_t>(pause.count()));
  EXPECT_LE(uptime, static_cast<uint64_t>(host_ms) + 100);
  const uint64_t stack_used = std::stoull(m[7]);
  EXPECT_GT(stack_used, 0u);
  EXPECT_LT(stack_used, std::stoull(layout.at("STACK_BYTES")));
}

// An image QEMU loads before reset (-device loader) is where the firmware's
// provisioning region says, and the firmware runs as usual.
TEST(FirmwareEcho, LoaderPutsAnImageIntoTheProvisioningRegion) {
  const auto layout = read_layout(env_or("MCUSPLIT_FW_BUILD_DIR", ".") + "/firmware_layout.env");
  char path[] = "/tmp/mcusplit_fw_image_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const Bytes image = pattern(4096, 99);
  ASSERT_EQ(write(fd, image.data(), image.size()), static_cast<ssize_t>(image.size()));
  close(fd);
  struct Remove {
    const char* p;
    ~Remove() { unlink(p); }
  } remove_image{path};

  Session s(
      {"-device", std::string("loader,file=") + path + ",addr=" + layout.at("PROVISION_ADDRESS")});
  ASSERT_NO_FATAL_FAILURE(s.open());
  char address[16];
  std::snprintf(address, sizeof(address), "0x%08lx",
                std::stoul(layout.at("PROVISION_ADDRESS"), nullptr, 16));
  EXPECT_EQ(banner_field(s.banner, "provision"),
            std::string(address) + "+" + layout.at("PROVISION_BYTES"));
  std::string head;
  for (int i = 0; i < 16; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof(hex), "%02x", image[static_cast<size_t>(i)]);
    head += hex;
  }
  EXPECT_EQ(banner_field(s.banner, "head"), head);

  const Bytes payload = pattern(100, 5);
  s.link->send(ping(0, payload));
  expect_pong(s.link->read_frame(Clock::now() + kReplyTimeout), 0, payload);
  s.link->send(stop(1));
  const auto status = s.qemu.wait_exit(Clock::now() + kExitTimeout);
  ASSERT_TRUE(status.has_value()) << s.qemu.output();
  EXPECT_EQ(*status, 0) << s.qemu.output();
}

// If a test gives up (no Stop), QEMU is killed and reaped: no process and
// no zombie stays behind.
TEST(FirmwareEcho, AnAbandonedQemuIsKilled) {
  pid_t pid = -1;
  {
    Session s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    pid = s.qemu.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(kill(pid, 0), 0);  // running, waiting for frames
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  int status = 0;
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace mcusplit::device
