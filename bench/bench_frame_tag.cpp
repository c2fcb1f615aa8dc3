// What a cluster key costs the host per frame (docs/protocol.md,
// "Authentication"): encoding and decoding a full frame (the plan's default
// max payload) untagged, and tagged with OpenSSL's HMAC-SHA256 as worker
// links do. bytes/s counts the frame's bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "device/frame_codec.h"
#include "host/cluster_key.h"

namespace {

using mcusplit::device::DecodeStatus;
using mcusplit::device::FrameAuth;
using mcusplit::device::FrameHeader;
using mcusplit::device::MessageType;

struct FullFrame {
  FrameHeader header;
  std::vector<uint8_t> payload;
  mcusplit::host::ClusterKey key{};
  FrameAuth auth;

  explicit FullFrame(bool tagged) : payload(mcusplit::device::kDefaultMaxPayload) {
    header.type = MessageType::Data;
    header.source = 1;
    header.destination = 2;
    header.plan_hash = 0x1234;
    header.inference_id = 7;
    header.tensor = 3;
    header.box = mcusplit::core::Box{0, 1, 0, 1, 0, static_cast<int32_t>(payload.size())};
    header.message_bytes = static_cast<uint32_t>(payload.size());
    header.payload_bytes = static_cast<uint32_t>(payload.size());
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i + 1);
    if (tagged) {
      auth.key = key.data();
      auth.nonce = 0x0102030405060708ull;
      auth.mac = mcusplit::host::openssl_prefixed_hmac_sha256;
    }
  }
  size_t bytes() const {
    return mcusplit::device::frame_bytes_for(header.payload_bytes, auth.key != nullptr);
  }
};

void BM_EncodeFullFrame(benchmark::State& state) {
  const FullFrame f(state.range(0) != 0);
  std::vector<uint8_t> out(f.bytes());
  for (auto _ : state) {
    benchmark::DoNotOptimize(mcusplit::device::encode_frame(f.header, f.payload.data(), out.data(),
                                                            out.size(), {}, &f.auth));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
  state.SetLabel(state.range(0) != 0 ? "tagged" : "untagged");
}
BENCHMARK(BM_EncodeFullFrame)->Arg(0)->Arg(1);

void BM_DecodeFullFrame(benchmark::State& state) {
  const FullFrame f(state.range(0) != 0);
  std::vector<uint8_t> frame(f.bytes());
  mcusplit::device::encode_frame(f.header, f.payload.data(), frame.data(), frame.size(), {},
                                 &f.auth);
  mcusplit::device::DecoderConfig cfg;
  for (auto _ : state) {
    mcusplit::device::FrameView view;
    const DecodeStatus s =
        mcusplit::device::decode_frame(frame.data(), frame.size(), cfg, &view, &f.auth);
    if (s != DecodeStatus::Ok) state.SkipWithError("the frame did not decode");
    benchmark::DoNotOptimize(view);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
  state.SetLabel(state.range(0) != 0 ? "tagged" : "untagged");
}
BENCHMARK(BM_DecodeFullFrame)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
