// Device images (docs/device_image.md): every participant's program of many
// plans (random CNNs on random clusters, MobileNetV2 at 96 and 224 on 1..16
// devices, auto and paper) written, parsed back into fixed-capacity storage
// and compared field by field with the host's DeviceSlice program and with
// the plan file's constant slices; whole plans run from the parsed images
// (one runtime per participant over an in-memory network) and whole graphs
// run from one parsed image, bit-exact with the single-device executor; the
// byte layout checked against the documented offsets; and corrupt images
// (every truncation, every flipped bit, bad magic and version, huge counts,
// out-of-range indices and bad constants with a recomputed CRC) refused with
// the right status.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "device/device_runtime.h"
#include "device/protocol.h"
#include "host/device_image_writer.h"
#include "host/device_slice.h"
#include "host/in_memory_network.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "plan/random_models.h"
#include "quant/int8_executor.h"
#include "quant/quantized_zoo.h"

namespace mcusplit::device {

// Status names in gtest's messages (found by argument-dependent lookup).
void PrintTo(ImageStatus s, std::ostream* os) {
  *os << device_image_status_name(s);
}

namespace {

using core::Box;
using core::TensorShape3;

// A new field in a kernel parameter struct changes its size: it must then be
// added to the image format (device_image.h, the writer, the parser, the
// docs) and to fields() below. Sizes on LP64 hosts.
static_assert(sizeof(void*) != 8 || sizeof(kernels::Int8ConvParams) == 120);
static_assert(sizeof(void*) != 8 || sizeof(kernels::Int8FullyConnectedParams) == 72);
static_assert(sizeof(kernels::Int8AddParams) == 60);
static_assert(sizeof(kernels::Int8PoolParams) == 56);
static_assert(sizeof(kernels::Int8GlobalAveragePoolParams) == 36);
static_assert(sizeof(kernels::Int8ConcatParams) == 52);
static_assert(sizeof(void*) != 8 || sizeof(DeviceOp) == 104);
static_assert(sizeof(void*) != 8 || sizeof(DeviceBuffer) == 40);

// Every non-pointer field of each parameter struct.
// A parameter struct's serialised fields (its field list), without the
// constant pointers: what an image must carry over.
struct FieldValues {
  std::vector<int32_t> values;
  void i32(const char*, int32_t v) { values.push_back(v); }
  void flag(const char*, bool v) { values.push_back(v ? 1 : 0); }
  void shape(const char*, const core::TensorShape3& s) {
    values.insert(values.end(), {s.c, s.h, s.w});
  }
  void activation(const char*, const core::ActivationRange& a) {
    values.insert(values.end(), {a.min, a.max});
  }
};
template <class P>
std::vector<int32_t> fields(const P& p) {
  FieldValues v;
  kernels::visit_fields(p, v);
  return v.values;
}
auto fields(const DeviceBuffer& b) {
  return std::make_tuple(b.tensor, b.box, b.offset);
}
auto fields(const DeviceOp& o) {
  return std::make_tuple(static_cast<int>(o.kind), o.step, o.layer, o.params, o.peer, o.tensor,
                         o.box, o.src_buffer, o.dst_buffer, o.input_count,
                         std::vector<int32_t>(o.inputs, o.inputs + kMaxLayerInputs));
}

// A parsed image with its storage (too large for the stack).
struct Parsed {
  std::unique_ptr<DeviceImageStorage> storage = std::make_unique<DeviceImageStorage>();
  ParsedImage image;
  ImageStatus status = ImageStatus::BadArgument;
};

std::unique_ptr<Parsed> parse(const std::vector<uint8_t>& bytes) {
  auto p = std::make_unique<Parsed>();
  p->status = parse_device_image(bytes.data(), bytes.size(), p->storage.get(), &p->image);
  return p;
}

std::string describe(const Parsed& p) {
  return std::string(device_image_status_name(p.status)) + " (" + p.image.detail + ", record " +
         std::to_string(p.image.index) + ")";
}

// `ptr` addresses `count` elements inside the image, aligned for T.
template <typename T>
void expect_in_image(const T* ptr, size_t count, const std::vector<uint8_t>& image,
                     const std::string& what) {
  const auto* begin = reinterpret_cast<const uint8_t*>(ptr);
  EXPECT_TRUE(begin >= image.data() && begin + count * sizeof(T) <= image.data() + image.size())
      << what << " does not point into the image";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr) % alignof(T), 0u) << what;
}

// want[0, n) == got[0, n) == slice (the plan file's copy), when given.
template <typename T>
void expect_array(const T* want, const T* got, const std::vector<T>* slice, size_t n,
                  const std::vector<uint8_t>& image, const std::string& what) {
  ASSERT_NE(want, nullptr) << what;
  ASSERT_NE(got, nullptr) << what;
  expect_in_image(got, n, image, what);
  EXPECT_TRUE(std::equal(want, want + n, got)) << what << " differs from the host program";
  if (slice != nullptr) {
    EXPECT_EQ(slice->size(), n) << what;
    if (slice->size() == n) {
      EXPECT_TRUE(std::equal(slice->begin(), slice->end(), got))
          << what << " differs from the plan";
    }
  }
}

// The constants of a conv or fully connected entry against the host program
// and, if known, the participant's slice of that layer in the plan file.
void expect_same_constants(const DeviceLayer& want, const DeviceLayer& got,
                           const plan::LayerConstants* slice, const std::vector<uint8_t>& image,
                           const std::string& label) {
  const bool conv = want.op == OpType::Conv;
  const kernels::ConstantCounts n =
      kernels::op_registration(want.op).channel_constants->counts(want);
  ASSERT_TRUE(n.ok) << label;
  const int8_t* w0 = conv ? want.conv.weights : want.fc.weights;
  const int8_t* w1 = conv ? got.conv.weights : got.fc.weights;
  const int32_t* b0 = conv ? want.conv.bias : want.fc.bias;
  const int32_t* b1 = conv ? got.conv.bias : got.fc.bias;
  const core::PerChannelRequant r0 = conv ? want.conv.requant : want.fc.requant;
  const core::PerChannelRequant r1 = conv ? got.conv.requant : got.fc.requant;
  expect_array(w0, w1, slice ? &slice->weights : nullptr, n.weights, image, label + " weights");
  EXPECT_EQ(b0 == nullptr, b1 == nullptr) << label << " bias presence";
  if (slice != nullptr) {
    EXPECT_EQ(slice->bias.empty(), b1 == nullptr) << label;
  }
  if (b0 != nullptr && b1 != nullptr) {
    expect_array(b0, b1, slice ? &slice->bias : nullptr, n.bias, image, label + " bias");
  }
  expect_array(r0.multiplier, r1.multiplier, slice ? &slice->multiplier : nullptr, n.requant, image,
               label + " multiplier");
  expect_array(r0.shift, r1.shift, slice ? &slice->shift : nullptr, n.requant, image,
               label + " shift");
}

// Field-by-field equality of the parsed program with the host's, constants
// compared element by element (against `slices`, the plan file's constants
// of this participant, when given).
void expect_same_program(const DeviceProgram& want, const DeviceProgram& got,
                         const std::vector<uint8_t>& image,
                         const std::vector<plan::LayerConstants>* slices,
                         const std::string& label) {
  EXPECT_EQ(got.participant, want.participant) << label;
  EXPECT_EQ(got.participant_count, want.participant_count) << label;
  EXPECT_EQ(got.input_tensor, want.input_tensor) << label;
  EXPECT_EQ(got.output_tensor, want.output_tensor) << label;
  EXPECT_EQ(got.arena_bytes, want.arena_bytes) << label;
  EXPECT_EQ(got.scratch_bytes, want.scratch_bytes) << label;
  ASSERT_EQ(got.tensor_count, want.tensor_count) << label;
  ASSERT_EQ(got.buffer_count, want.buffer_count) << label;
  ASSERT_EQ(got.op_count, want.op_count) << label;
  ASSERT_EQ(got.layer_count, want.layer_count) << label;
  for (int32_t i = 0; i < want.tensor_count; ++i) {
    EXPECT_EQ(got.tensor_shapes[i], want.tensor_shapes[i]) << label << " tensor " << i;
  }
  for (int32_t i = 0; i < want.buffer_count; ++i) {
    EXPECT_EQ(fields(got.buffers[i]), fields(want.buffers[i])) << label << " buffer " << i;
  }
  for (int32_t i = 0; i < want.op_count; ++i) {
    EXPECT_EQ(fields(got.ops[i]), fields(want.ops[i])) << label << " op " << i;
  }
  for (int32_t i = 0; i < want.layer_count; ++i) {
    const DeviceLayer& w = want.layers[i];
    const DeviceLayer& g = got.layers[i];
    const std::string what = label + " layer entry " + std::to_string(i);
    EXPECT_EQ(g.layer, w.layer) << what;
    EXPECT_EQ(g.op, w.op) << what;
    EXPECT_EQ(g.output_tensor, w.output_tensor) << what;
    ASSERT_EQ(g.input_count, w.input_count) << what;
    EXPECT_TRUE(std::equal(w.input_tensors, w.input_tensors + kMaxLayerInputs, g.input_tensors))
        << what;
    // Every parameter struct, not only the kind's: the others must be the
    // defaults on both sides.
    EXPECT_EQ(fields(g.conv), fields(w.conv)) << what;
    EXPECT_EQ(fields(g.fc), fields(w.fc)) << what;
    EXPECT_EQ(fields(g.add), fields(w.add)) << what;
    EXPECT_EQ(fields(g.pool), fields(w.pool)) << what;
    EXPECT_EQ(fields(g.global_pool), fields(w.global_pool)) << what;
    EXPECT_EQ(g.reshape, w.reshape) << what;
    if (w.op == OpType::Conv || w.op == OpType::FullyConnected) {
      const plan::LayerConstants* slice = nullptr;
      if (slices != nullptr) {
        for (const plan::LayerConstants& k : *slices) {
          if (k.layer == w.layer) slice = &k;
        }
        EXPECT_NE(slice, nullptr) << what << ": no slice in the plan file";
      }
      expect_same_constants(w, g, slice, image, what);
    } else {
      EXPECT_EQ(g.conv.weights, nullptr) << what;
      EXPECT_EQ(g.fc.weights, nullptr) << what;
    }
    if (w.op == OpType::Concat) {
      ASSERT_NE(g.concat, nullptr) << what;
      for (int32_t k = 0; k < w.input_count; ++k) {
        EXPECT_EQ(fields(g.concat[k]), fields(w.concat[k])) << what << " block " << k;
      }
    } else {
      EXPECT_EQ(g.concat, nullptr) << what;
    }
  }
}

// The most of each table any participant needed.
struct Maxima {
  int32_t tensors = 0, buffers = 0, ops = 0, layers = 0, concat_blocks = 0;
  size_t image_bytes = 0;
  void add(const DeviceProgram& p, size_t bytes) {
    tensors = std::max(tensors, p.tensor_count);
    buffers = std::max(buffers, p.buffer_count);
    ops = std::max(ops, p.op_count);
    layers = std::max(layers, p.layer_count);
    int32_t blocks = 0;
    for (int32_t i = 0; i < p.layer_count; ++i) {
      if (p.layers[i].op == OpType::Concat) blocks += p.layers[i].input_count;
    }
    concat_blocks = std::max(concat_blocks, blocks);
    image_bytes = std::max(image_bytes, bytes);
  }
  void print(const char* what) const {
    std::printf(
        "%s: max tensors %d, buffers %d, ops %d, layer entries %d, concat blocks %d, image %zu "
        "bytes\n",
        what, tensors, buffers, ops, layers, concat_blocks, image_bytes);
  }
};

// Writes, parses and compares every participant of `file`. Returns the
// number of participants that round-tripped.
int round_trip_plan(const plan::PlanFile& file, const std::string& label, Maxima* maxima) {
  int ok = 0;
  for (size_t p = 0; p < file.plan.participants.size(); ++p) {
    const std::string who = label + " participant " + std::to_string(p);
    const host::DeviceSlice slice(file, static_cast<int>(p));
    const std::vector<uint8_t> image = host::write_participant_image(file, static_cast<int>(p));
    const auto parsed = parse(image);
    EXPECT_EQ(parsed->status, ImageStatus::Ok) << who << ": " << describe(*parsed);
    if (parsed->status != ImageStatus::Ok) continue;
    const ParsedImage& out = parsed->image;
    EXPECT_EQ(out.plan_hash, file.hash) << who;
    EXPECT_EQ(out.max_payload_bytes, static_cast<uint64_t>(file.plan.max_payload_bytes)) << who;
    EXPECT_EQ(std::string(out.device_name, out.device_name_bytes), slice.name()) << who;
    EXPECT_EQ(out.participant, static_cast<int32_t>(p)) << who;
    EXPECT_EQ(out.image_bytes, image.size()) << who;
    EXPECT_EQ(image.size() % kImageAlignment, 0u) << who;
    expect_same_program(slice.program(), out.program, image, &file.constants[p], who);
    if (maxima != nullptr) maxima->add(slice.program(), image.size());
    ++ok;
  }
  return ok;
}

plan::PlanOptions random_case_options(uint32_t seed) {
  plan::PlanOptions o;
  o.scheme = seed % 3 == 0 ? plan::Scheme::Paper : plan::Scheme::Auto;
  o.objective = seed % 2 == 0 ? plan::Objective::Memory : plan::Objective::Latency;
  o.search_min_count = false;
  return o;
}

TEST(DeviceImage, RandomModelsOnRandomClustersRoundTripExactly) {
  Maxima maxima;
  int plans = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    const quant::QGraph g = plan::testing::random_cnn(seed);
    const plan::ClusterSpec cluster = plan::testing::random_cluster(seed * 7919u);
    plan::Plan p;
    try {
      p = plan::make_plan(g, cluster, random_case_options(seed));
    } catch (const Error& e) {
      ASSERT_EQ(e.exit_code(), kExitInfeasible) << "seed " << seed << ": " << e.what();
      continue;
    }
    const plan::PlanFile file = host::provision_plan(p, g);
    const std::string label = "seed " + std::to_string(seed);
    EXPECT_EQ(round_trip_plan(file, label, &maxima), static_cast<int>(p.participants.size()));
    ++plans;
  }
  maxima.print("random CNNs");
  EXPECT_GT(plans, 250);
  EXPECT_GT(maxima.concat_blocks, 0);  // the models do exercise Concat
}

TEST(DeviceImage, SmallMobileNetV2RoundTripsOnEveryShape) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  Maxima maxima;
  for (const char* devices : {"1xteensy41", "2xteensy41", "3xteensy41", "4xteensy41", "8xteensy41",
                              "2xteensy41,2xrp2040"}) {
    for (plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
      for (plan::Topology topology :
           {plan::Topology::Switched, plan::Topology::Star, plan::Topology::Bus}) {
        plan::ClusterSpec cluster = plan::parse_devices_shorthand(devices);
        cluster.topology = topology;
        plan::PlanOptions o;
        o.scheme = scheme;
        const plan::Plan p = plan::make_plan(g, cluster, o);
        const std::string label = std::string(devices) + " " + plan::scheme_name(scheme) + " " +
                                  plan::topology_name(topology);
        round_trip_plan(host::provision_plan(p, g), label, &maxima);
      }
    }
  }
  maxima.print("MobileNetV2 0.35/96");
}

// The default capacities (kMaxImage*) hold every participant of
// MobileNetV2-1.0 at 224 on 1..16 teensy41, auto and paper, at the
// profile's RAM and at 256 KiB; the maxima printed here are the ones
// docs/device_image.md lists.
TEST(DeviceImage, MobileNetV2At224FitsTheDefaultCapacitiesOnOneToSixteenDevices) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(1.0f, 224, 1000);
  Maxima maxima;
  int plans = 0;
  for (int n = 1; n <= 16; ++n) {
    for (const char* ram : {"", ":256KiB"}) {
      for (plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
        plan::ClusterSpec cluster = plan::parse_devices_shorthand(std::to_string(n) + "xteensy41");
        if (ram[0] != '\0') {
          for (auto& d : cluster.devices) d.ram_bytes = 256 * 1024;
        }
        plan::PlanOptions o;
        o.scheme = scheme;
        o.search_min_count = false;
        plan::Plan p;
        try {
          p = plan::make_plan(g, cluster, o);
        } catch (const Error& e) {
          ASSERT_EQ(e.exit_code(), kExitInfeasible) << e.what();
          continue;
        }
        const std::string label =
            std::to_string(n) + "xteensy41" + ram + " " + plan::scheme_name(scheme);
        round_trip_plan(host::provision_plan(p, g), label, &maxima);
        ++plans;
      }
    }
  }
  maxima.print("MobileNetV2 1.0/224");
  EXPECT_GE(plans, 40);
  EXPECT_LE(maxima.tensors, kMaxImageTensors);
  EXPECT_LE(maxima.buffers, kMaxImageBuffers);
  EXPECT_LE(maxima.ops, kMaxImageOps);
  EXPECT_LE(maxima.layers, kMaxImageLayers);
}

// ---- whole graphs run from parsed images ----

// One participant that computes the whole graph itself: every tensor in its
// own full buffer, load the input, every layer, store the output; the
// constants are the graph's own vectors.
struct WholeGraphProgram {
  explicit WholeGraphProgram(const quant::QGraph& g) {
    int64_t offset = 0;
    for (const quant::QTensor& t : g.tensors) {
      shapes.push_back(t.shape);
      buffers.push_back(
          DeviceBuffer{static_cast<int32_t>(buffers.size()), core::full_box(t.shape), offset});
      offset += t.bytes();
    }
    const int64_t scratch_base = (offset + 3) / 4 * 4;
    int64_t scratch_end = offset;
    DeviceOp load;
    load.kind = DeviceOpKind::LoadInput;
    load.tensor = g.input;
    load.box = core::full_box(shapes[static_cast<size_t>(g.input)]);
    load.dst_buffer = g.input;
    ops.push_back(load);
    concat.reserve(g.layers.size());
    for (size_t i = 0; i < g.layers.size(); ++i) {
      const quant::QLayer& q = g.layers[i];
      DeviceLayer l;
      l.layer = static_cast<int32_t>(i);
      l.output_tensor = q.output;
      l.input_count = static_cast<int32_t>(q.inputs.size());
      std::copy(q.inputs.begin(), q.inputs.end(), l.input_tensors);
      switch (q.op) {
        case quant::OpType::Conv:
          l.op = OpType::Conv;
          l.conv = q.conv;
          l.conv.weights = q.weights.data();
          l.conv.bias = q.bias.empty() ? nullptr : q.bias.data();
          l.conv.requant = {q.multiplier.data(), q.shift.data()};
          l.conv.weights_c0 = 0;
          l.conv.weights_c1 = q.conv.output.c;
          break;
        case quant::OpType::FullyConnected:
          l.op = OpType::FullyConnected;
          l.fc = q.fc;
          l.fc.weights = q.weights.data();
          l.fc.bias = q.bias.empty() ? nullptr : q.bias.data();
          l.fc.requant = {q.multiplier.data(), q.shift.data()};
          l.fc.weights_n0 = 0;
          l.fc.weights_n1 = q.fc.output_size;
          break;
        case quant::OpType::Add:
          l.op = OpType::Add;
          l.add = q.add;
          break;
        case quant::OpType::MaxPool:
        case quant::OpType::AveragePool:
          l.op = q.op == quant::OpType::MaxPool ? OpType::MaxPool : OpType::AveragePool;
          l.pool = q.pool;
          break;
        case quant::OpType::GlobalAveragePool:
          l.op = OpType::GlobalAveragePool;
          l.global_pool = q.global_pool;
          break;
        case quant::OpType::Softmax:
          l.op = OpType::Softmax;
          l.softmax = q.softmax;
          break;
        case quant::OpType::Pad:
          l.op = OpType::Pad;
          l.pad = q.pad;
          break;
        case quant::OpType::Concat:
          l.op = OpType::Concat;
          concat.push_back(q.concat);
          l.concat = concat.back().data();
          break;
        case quant::OpType::Reshape:
          l.op = OpType::Reshape;
          l.reshape = q.reshape;
          break;
      }
      layers.push_back(l);
      DeviceOp op;
      op.kind = DeviceOpKind::Compute;
      op.step = static_cast<int32_t>(i) + 1;
      op.layer = l.layer;
      op.params = l.layer;
      op.tensor = q.output;
      op.box = core::full_box(shapes[static_cast<size_t>(q.output)]);
      op.dst_buffer = q.output;
      op.input_count = l.input_count;
      std::copy(q.inputs.begin(), q.inputs.end(), op.inputs);
      // Every kernel's scratch above the tensors, one after another in time.
      op.scratch_bytes = kernels::op_registration(l.op).scratch_bytes(
          kernels::OpLayer{l.op, &l, l.concat, l.input_count}, op.box);
      op.scratch_offset = op.scratch_bytes > 0 ? scratch_base : 0;
      scratch_end = std::max(scratch_end, op.scratch_offset + op.scratch_bytes);
      ops.push_back(op);
    }
    DeviceOp store;
    store.kind = DeviceOpKind::StoreOutput;
    store.step = static_cast<int32_t>(g.layers.size());
    store.tensor = g.output;
    store.box = core::full_box(shapes[static_cast<size_t>(g.output)]);
    store.src_buffer = g.output;
    ops.push_back(store);

    program.participant = 0;
    program.participant_count = 1;  // the coordinator alone
    program.tensor_shapes = shapes.data();
    program.tensor_count = static_cast<int32_t>(shapes.size());
    program.input_tensor = g.input;
    program.output_tensor = g.output;
    program.buffers = buffers.data();
    program.buffer_count = static_cast<int32_t>(buffers.size());
    program.ops = ops.data();
    program.op_count = static_cast<int32_t>(ops.size());
    program.layers = layers.data();
    program.layer_count = static_cast<int32_t>(layers.size());
    program.arena_bytes = scratch_end;
  }

  std::vector<TensorShape3> shapes;
  std::vector<DeviceBuffer> buffers;
  std::vector<DeviceOp> ops;
  std::vector<DeviceLayer> layers;
  std::vector<std::vector<kernels::Int8ConcatParams>> concat;
  DeviceProgram program;
};

std::vector<int8_t> random_input(const quant::QGraph& g, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
  for (auto& v : in) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  return in;
}

// Writes the whole graph's program, parses it and runs the parsed program
// on the device runtime (no transfers, so no transport); the output must be
// the executor's, bit for bit.
void expect_whole_graph_runs_from_its_image(const quant::QGraph& g, uint32_t seed,
                                            const std::string& label) {
  const WholeGraphProgram whole(g);
  const std::vector<uint8_t> image =
      host::write_device_image(whole.program, 0x0123456789abcdefu, 1372, "single");
  const auto parsed = parse(image);
  ASSERT_EQ(parsed->status, ImageStatus::Ok) << label << ": " << describe(*parsed);
  expect_same_program(whole.program, parsed->image.program, image, nullptr, label);

  const DeviceProgram& program = parsed->image.program;
  std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
  DeviceRuntime runtime(program, arena.data(), program.arena_bytes, nullptr, 0, nullptr);
  ASSERT_EQ(runtime.setup_status(), RuntimeStatus::Ok) << label << ": " << runtime.failure().detail;
  const std::vector<int8_t> input = random_input(g, seed);
  std::vector<int8_t> output(static_cast<size_t>(g.tensors[static_cast<size_t>(g.output)].bytes()));
  ASSERT_EQ(runtime.run(input.data(), static_cast<int64_t>(input.size()), output.data(),
                        static_cast<int64_t>(output.size())),
            RuntimeStatus::Ok)
      << label << ": op " << runtime.failure().op_index << " " << runtime.failure().detail;
  EXPECT_EQ(output, quant::Int8Executor(g).run(input)) << label;
}

TEST(DeviceImage, WholeRandomGraphsRunFromTheirImagesBitExact) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    expect_whole_graph_runs_from_its_image(plan::testing::random_cnn(seed), seed,
                                           "seed " + std::to_string(seed));
  }
}

TEST(DeviceImage, WholeSmallMobileNetV2RunsFromItsImageBitExact) {
  expect_whole_graph_runs_from_its_image(mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10), 7,
                                         "MobileNetV2 0.35/96");
}

// ---- whole plans run from parsed images ----

// Every participant of `file` written to its image, parsed, and run from the
// parsed program on its own thread over an in-memory network (as
// host::InProcessCluster runs the DeviceSlice programs). Returns false (after
// adding failures) if anything failed; `output` gets the graph output.
bool run_plan_from_images(const plan::PlanFile& file, const std::vector<int8_t>& input,
                          std::vector<int8_t>* output, const std::string& label) {
  const int n = static_cast<int>(file.plan.participants.size());
  std::vector<std::vector<uint8_t>> images;
  std::vector<std::unique_ptr<Parsed>> parsed;
  for (int p = 0; p < n; ++p) {
    images.push_back(host::write_participant_image(file, p));
    parsed.push_back(parse(images.back()));
    if (parsed.back()->status != ImageStatus::Ok) {
      ADD_FAILURE() << label << " participant " << p << ": " << describe(*parsed.back());
      return false;
    }
  }
  const auto max_payload = static_cast<int32_t>(parsed[0]->image.max_payload_bytes);
  host::InMemoryNetwork network(n, std::chrono::milliseconds(10000), max_payload);
  std::vector<RuntimeStatus> status(static_cast<size_t>(n), RuntimeStatus::Ok);
  std::vector<RuntimeFailure> failure(static_cast<size_t>(n));
  std::vector<int64_t> high_water(static_cast<size_t>(n), 0);
  output->assign(
      static_cast<size_t>(file.graph.tensors[static_cast<size_t>(file.graph.output)].bytes()), 0);
  const auto participant_main = [&](int p) {
    const DeviceProgram& program = parsed[static_cast<size_t>(p)]->image.program;
    std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
    const int64_t frame = frame_buffer_bytes(program, max_payload);
    std::vector<int8_t> scratch(static_cast<size_t>(frame));
    DeviceRuntime runtime(program, arena.data(), program.arena_bytes, scratch.data(), frame,
                          &network.endpoint(p));
    const bool coordinator = program.coordinator();
    const size_t i = static_cast<size_t>(p);
    status[i] = runtime.run(coordinator ? input.data() : nullptr,
                            coordinator ? static_cast<int64_t>(input.size()) : 0,
                            coordinator ? output->data() : nullptr,
                            coordinator ? static_cast<int64_t>(output->size()) : 0);
    failure[i] = runtime.failure();
    high_water[i] = runtime.stats().high_water_bytes;
    if (status[i] != RuntimeStatus::Ok) network.close();
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < n; ++p) threads.emplace_back(participant_main, p);
  for (std::thread& t : threads) t.join();
  bool ok = true;
  for (size_t p = 0; p < static_cast<size_t>(n); ++p) {
    if (status[p] != RuntimeStatus::Ok) {
      ADD_FAILURE() << label << " participant " << p << ": " << runtime_status_name(status[p])
                    << " at op " << failure[p].op_index << " (" << failure[p].detail << ")";
      ok = false;
    }
    // The parsed program fills exactly the arena the plan promises.
    EXPECT_EQ(high_water[p], file.plan.participants[p].arena_bytes)
        << label << " participant " << p;
  }
  EXPECT_EQ(network.undelivered_events(), 0) << label;
  return ok;
}

void expect_plan_runs_from_images(const quant::QGraph& g, const plan::Plan& p, uint32_t seed,
                                  const std::string& label) {
  const plan::PlanFile file = host::provision_plan(p, g);
  const std::vector<int8_t> input = random_input(g, seed);
  std::vector<int8_t> output;
  if (run_plan_from_images(file, input, &output, label)) {
    EXPECT_EQ(output, quant::Int8Executor(g).run(input)) << label;
  }
}

TEST(DeviceImage, RandomPlansRunFromTheirImagesBitExact) {
  int ran = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    const quant::QGraph g = plan::testing::random_cnn(seed);
    plan::Plan p;
    try {
      p = plan::make_plan(g, plan::testing::random_cluster(seed * 7919u),
                          random_case_options(seed));
    } catch (const Error& e) {
      ASSERT_EQ(e.exit_code(), kExitInfeasible) << "seed " << seed << ": " << e.what();
      continue;
    }
    expect_plan_runs_from_images(g, p, seed, "seed " + std::to_string(seed));
    ++ran;
  }
  EXPECT_GT(ran, 30);
}

TEST(DeviceImage, SmallMobileNetV2PlansRunFromTheirImagesBitExact) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  for (const char* devices : {"1xteensy41", "3xteensy41", "8xteensy41"}) {
    for (plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
      plan::PlanOptions o;
      o.scheme = scheme;
      const plan::Plan p = plan::make_plan(g, plan::parse_devices_shorthand(devices), o);
      expect_plan_runs_from_images(g, p, 11,
                                   std::string(devices) + " " + plan::scheme_name(scheme));
    }
  }
}

// ---- the byte layout, against docs/device_image.md ----

uint32_t u32_at(const std::vector<uint8_t>& b, size_t at) {
  return load_le32(b.data() + at);
}
int32_t i32_at(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<int32_t>(load_le32(b.data() + at));
}

// Two int8 tensors and one fully connected layer, by hand: every offset of
// the image is known.
struct TinyProgram {
  TinyProgram() {
    fc.input_size = 4;
    fc.output_size = 2;
    fc.input_zero_point = -3;
    fc.output_zero_point = 5;
    fc.activation = {-100, 120};
    fc.weights = weights;
    fc.bias = bias;
    fc.requant = {multiplier, shift};
    fc.weights_n0 = 0;
    fc.weights_n1 = 2;
    layer.layer = 0;
    layer.op = OpType::FullyConnected;
    layer.output_tensor = 1;
    layer.input_count = 1;
    layer.input_tensors[0] = 0;
    layer.fc = fc;
    ops[0].kind = DeviceOpKind::LoadInput;
    ops[0].tensor = 0;
    ops[0].box = core::full_box(shapes[0]);
    ops[0].dst_buffer = 0;
    ops[1].kind = DeviceOpKind::Compute;
    ops[1].step = 1;
    ops[1].layer = 0;
    ops[1].params = 0;
    ops[1].tensor = 1;
    ops[1].box = core::full_box(shapes[1]);
    ops[1].dst_buffer = 1;
    ops[1].input_count = 1;
    ops[1].inputs[0] = 0;
    ops[1].scratch_offset = 8;  // more than the kernel states (0): allowed
    ops[1].scratch_bytes = 4;
    ops[2].kind = DeviceOpKind::StoreOutput;
    ops[2].step = 1;
    ops[2].tensor = 1;
    ops[2].box = core::full_box(shapes[1]);
    ops[2].src_buffer = 1;
    program.participant = 0;
    program.participant_count = 1;
    program.tensor_shapes = shapes;
    program.tensor_count = 2;
    program.input_tensor = 0;
    program.output_tensor = 1;
    program.buffers = buffers;
    program.buffer_count = 2;
    program.ops = ops;
    program.op_count = 3;
    program.layers = &layer;
    program.layer_count = 1;
    program.arena_bytes = 12;
  }
  int8_t weights[8] = {1, -2, 3, -4, 5, 6, -7, 8};
  int32_t bias[2] = {100, -200};
  int32_t multiplier[2] = {1 << 30, 1 << 29};
  int32_t shift[2] = {0, -1};
  kernels::Int8FullyConnectedParams fc;
  TensorShape3 shapes[2] = {{4, 1, 1}, {2, 1, 1}};
  DeviceBuffer buffers[2] = {{0, Box{0, 4, 0, 1, 0, 1}, 0}, {1, Box{0, 2, 0, 1, 0, 1}, 4}};
  DeviceOp ops[3];
  DeviceLayer layer;
  DeviceProgram program;
};

TEST(DeviceImage, TheByteLayoutIsTheDocumentedOne) {
  const TinyProgram tiny;
  const std::vector<uint8_t> b =
      host::write_device_image(tiny.program, 0x1122334455667788u, 1372, "dev");
  // Regions: name 128 (3 bytes, padded to 132), tensors 132 (2 x 12), buffers
  // 156 (2 x 36), ops 228 (3 x 104), layers 540 (1 x 164), concat 704 (none),
  // data 704: weights 0..8, bias 8..16, multiplier 16..24, shift 24..32.
  ASSERT_EQ(b.size(), 736u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "MCUSPLDI");
  EXPECT_EQ(u32_at(b, 8), 2u);
  EXPECT_EQ(u32_at(b, 12), 736u);
  EXPECT_EQ(u32_at(b, 16), device_image_crc(b.data(), b.size()));
  EXPECT_EQ(u32_at(b, 20), 0u);
  EXPECT_EQ(load_le64(b.data() + 24), 0x1122334455667788u);
  EXPECT_EQ(load_le64(b.data() + 32), 12u);  // arena
  EXPECT_EQ(load_le64(b.data() + 40), 0u);   // scratch
  EXPECT_EQ(u32_at(b, 48), 1372u);
  EXPECT_EQ(i32_at(b, 52), 0);  // participant
  EXPECT_EQ(i32_at(b, 56), 1);  // participant count
  EXPECT_EQ(i32_at(b, 60), 0);  // input tensor
  EXPECT_EQ(i32_at(b, 64), 1);  // output tensor
  const uint32_t regions[7][2] = {{128, 3}, {132, 2}, {156, 2}, {228, 3},
                                  {540, 1}, {704, 0}, {704, 32}};
  for (size_t r = 0; r < 7; ++r) {
    EXPECT_EQ(u32_at(b, 68 + 8 * r), regions[r][0]) << "region " << r;
    EXPECT_EQ(u32_at(b, 72 + 8 * r), regions[r][1]) << "region " << r;
  }
  EXPECT_EQ(u32_at(b, 124), 0u);
  EXPECT_EQ(std::string(b.begin() + 128, b.begin() + 131), "dev");
  // Tensor 1, buffer 1.
  EXPECT_EQ(i32_at(b, 144), 2);
  EXPECT_EQ(i32_at(b, 192), 1);                   // tensor
  EXPECT_EQ(i32_at(b, 192 + 8), 2);               // box c1
  EXPECT_EQ(load_le64(b.data() + 192 + 28), 4u);  // offset
  // Op 1 (compute): kind, params, dst buffer, input count, inputs.
  const size_t op1 = 228 + 104;
  EXPECT_EQ(u32_at(b, op1), 4u);
  EXPECT_EQ(i32_at(b, op1 + 12), 0);
  EXPECT_EQ(i32_at(b, op1 + 52), 1);
  EXPECT_EQ(i32_at(b, op1 + 56), 1);
  EXPECT_EQ(i32_at(b, op1 + 60), 0);
  EXPECT_EQ(i32_at(b, op1 + 64), -1);
  EXPECT_EQ(i32_at(b, op1 + 88), -1);
  EXPECT_EQ(load_le64(b.data() + op1 + 92), 8u);  // scratch offset
  EXPECT_EQ(i32_at(b, op1 + 100), 4);             // scratch bytes
  EXPECT_EQ(load_le64(b.data() + 228 + 92), 0u);  // op 0 (load_input): no scratch
  EXPECT_EQ(i32_at(b, 228 + 100), 0);
  // The layer record: kind 1 (fully connected), then its block at word 12.
  EXPECT_EQ(u32_at(b, 540 + 4), 1u);
  EXPECT_EQ(i32_at(b, 540 + 12), 1);  // input count
  const size_t fc = 540 + 48;
  EXPECT_EQ(i32_at(b, fc), 4);       // K
  EXPECT_EQ(i32_at(b, fc + 4), 2);   // N
  EXPECT_EQ(i32_at(b, fc + 8), -3);  // input zero point
  EXPECT_EQ(i32_at(b, fc + 16), -100);
  EXPECT_EQ(u32_at(b, fc + 24), 0u);  // per-tensor requant
  EXPECT_EQ(i32_at(b, fc + 32), 2);   // n1
  const uint32_t arrays[4][2] = {{0, 8}, {8, 2}, {16, 2}, {24, 2}};
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(u32_at(b, fc + 36 + 8 * k), arrays[k][0]) << "array " << k;
    EXPECT_EQ(u32_at(b, fc + 40 + 8 * k), arrays[k][1]) << "array " << k;
  }
  for (size_t k = 17; k < 29; ++k) EXPECT_EQ(u32_at(b, fc + 4 * k), 0u) << "word " << k;
  EXPECT_EQ(static_cast<int8_t>(b[704 + 6]), -7);
  EXPECT_EQ(i32_at(b, 704 + 12), -200);
  EXPECT_EQ(i32_at(b, 704 + 20), 1 << 29);
  EXPECT_EQ(i32_at(b, 704 + 28), -1);

  // And it runs: the fully connected layer on a known input.
  const auto parsed = parse(b);
  ASSERT_EQ(parsed->status, ImageStatus::Ok) << describe(*parsed);
  EXPECT_EQ(std::string(parsed->image.device_name, parsed->image.device_name_bytes), "dev");
  std::vector<int8_t> arena(12);
  DeviceRuntime runtime(parsed->image.program, arena.data(), 12, nullptr, 0, nullptr);
  const int8_t input[4] = {10, -20, 30, 0};
  int8_t output[2] = {0, 0};
  ASSERT_EQ(runtime.run(input, 4, output, 2), RuntimeStatus::Ok) << runtime.failure().detail;
  int8_t expected[2] = {0, 0};
  ASSERT_EQ(kernels::int8_fully_connected_scratch_bytes(tiny.fc, 0, 2), 0);
  ASSERT_EQ(kernels::int8_fully_connected(tiny.fc, input, 0, 2, expected, {}),
            kernels::KernelStatus::Ok);
  EXPECT_EQ(output[0], expected[0]);
  EXPECT_EQ(output[1], expected[1]);
}

// ---- corrupt images ----

// A participant image of a small random CNN planned on three devices that
// holds conv, fully connected and concat layer entries and transfers.
class CorruptImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    storage_ = std::make_unique<DeviceImageStorage>();  // shared by every parse: it is large
    for (uint32_t seed = 1; seed < 500 && good_.empty(); ++seed) {
      const quant::QGraph g = plan::testing::random_cnn(seed);
      plan::PlanOptions o;
      o.scheme = plan::Scheme::Paper;
      plan::Plan p;
      try {
        p = plan::make_plan(g, plan::parse_devices_shorthand("2xteensy41"), o);
      } catch (const Error&) {
        continue;
      }
      const plan::PlanFile file = host::provision_plan(p, g);
      for (int part = 0; part < static_cast<int>(p.participants.size()); ++part) {
        const host::DeviceSlice slice(file, part);
        const DeviceProgram& prog = slice.program();
        bool conv = false, fc = false, concat = false, send = false, receive = false;
        for (int32_t i = 0; i < prog.layer_count; ++i) {
          conv |= prog.layers[i].op == OpType::Conv && prog.layers[i].conv.bias != nullptr;
          fc |= prog.layers[i].op == OpType::FullyConnected;
          concat |= prog.layers[i].op == OpType::Concat;
        }
        for (int32_t i = 0; i < prog.op_count; ++i) {
          send |= prog.ops[i].kind == DeviceOpKind::Send;
          receive |= prog.ops[i].kind == DeviceOpKind::Receive;
        }
        if (conv && fc && concat && send && receive) {
          good_ = host::write_participant_image(file, part);
          break;
        }
      }
    }
  }

  static const std::vector<uint8_t>& good() { return good_; }

  static ImageStatus status_of(const std::vector<uint8_t>& bytes, ParsedImage* out = nullptr) {
    ParsedImage parsed;
    const ImageStatus s = parse_device_image(bytes.data(), bytes.size(), storage_.get(), &parsed);
    if (s != ImageStatus::Ok) {
      EXPECT_EQ(parsed.program.op_count, 0);  // no half-filled program on failure
      EXPECT_EQ(parsed.program.ops, nullptr);
    }
    if (out != nullptr) *out = parsed;
    return s;
  }

  // The region table entry of `r`: offset and count.
  static uint32_t region_offset(const std::vector<uint8_t>& b, ImageRegion r) {
    return u32_at(b, image_region_offset_field(r));
  }
  static uint32_t region_count(const std::vector<uint8_t>& b, ImageRegion r) {
    return u32_at(b, image_region_offset_field(r) + 4);
  }
  // Byte offset of word `word` of record `i` of table `r`.
  static size_t word_at(const std::vector<uint8_t>& b, ImageRegion r, size_t record_bytes,
                        uint32_t i, uint32_t word) {
    return region_offset(b, r) + record_bytes * i + 4 * size_t{word};
  }
  // The first layer entry of `kind`.
  static uint32_t first_layer(const std::vector<uint8_t>& b, OpType kind) {
    const uint32_t n = region_count(b, ImageRegion::Layers);
    for (uint32_t i = 0; i < n; ++i) {
      if (u32_at(b, word_at(b, ImageRegion::Layers, kImageLayerRecordBytes, i,
                            image::kLayerKind)) == static_cast<uint32_t>(kind)) {
        return i;
      }
    }
    ADD_FAILURE() << "no layer entry of kind " << static_cast<int>(kind);
    return 0;
  }
  static size_t layer_word(const std::vector<uint8_t>& b, OpType kind, uint32_t word) {
    return word_at(b, ImageRegion::Layers, kImageLayerRecordBytes, first_layer(b, kind), word);
  }
  static size_t param_word(const std::vector<uint8_t>& b, OpType kind, uint32_t word) {
    return layer_word(b, kind, image::kLayerParams + word);
  }
  // The parameter block word of a named field of op's field list.
  static uint32_t field(OpType op, const char* name) {
    const int32_t word = image::param_field_word(op, name);
    EXPECT_GE(word, 0) << name;
    return static_cast<uint32_t>(word);
  }

  // The first op of `kind`.
  static size_t op_word(const std::vector<uint8_t>& b, DeviceOpKind kind, uint32_t word) {
    const uint32_t n = region_count(b, ImageRegion::Ops);
    for (uint32_t i = 0; i < n; ++i) {
      if (u32_at(b, word_at(b, ImageRegion::Ops, kImageOpRecordBytes, i, image::kOpKind)) ==
          static_cast<uint32_t>(kind)) {
        return word_at(b, ImageRegion::Ops, kImageOpRecordBytes, i, word);
      }
    }
    ADD_FAILURE() << "no op of kind " << device_op_kind_name(kind);
    return 0;
  }

  // A copy of the good image with one u32 (or i32) changed and the CRC
  // recomputed, so that the checks behind the CRC are reached.
  static std::vector<uint8_t> resealed(size_t at, uint32_t value) {
    std::vector<uint8_t> b = good_;
    store_le32(b.data() + at, value);
    reseal(b);
    return b;
  }
  static void reseal(std::vector<uint8_t>& b) {
    const uint32_t n =
        std::min<uint32_t>(u32_at(b, kImageOffImageBytes), static_cast<uint32_t>(b.size()));
    store_le32(b.data() + kImageOffCrc, device_image_crc(b.data(), n));
  }
  // Expects `status` from the good image with the u32 at `at` set to `value`.
  static void expect_resealed(size_t at, uint32_t value, ImageStatus status,
                              const std::string& what) {
    ParsedImage out;
    const ImageStatus got = status_of(resealed(at, value), &out);
    EXPECT_EQ(got, status) << what << ": got " << device_image_status_name(got) << " ("
                           << out.detail << ")";
  }

  static void TearDownTestSuite() { storage_.reset(); }

  static std::vector<uint8_t> good_;
  static std::unique_ptr<DeviceImageStorage> storage_;
};

std::vector<uint8_t> CorruptImageTest::good_;
std::unique_ptr<DeviceImageStorage> CorruptImageTest::storage_;

TEST_F(CorruptImageTest, TheGoodImageParses) {
  ASSERT_FALSE(good().empty()) << "no random CNN gave a participant with every kind";
  EXPECT_EQ(status_of(good()), ImageStatus::Ok);
  std::printf("corruption tests on an image of %zu bytes\n", good().size());
}

TEST_F(CorruptImageTest, EveryTruncationIsTruncated) {
  ASSERT_FALSE(good().empty());
  for (size_t len = 0; len < good().size(); ++len) {
    // An exact-size heap copy, so ASan sees any read past its end.
    const std::vector<uint8_t> prefix(good().begin(),
                                      good().begin() + static_cast<std::ptrdiff_t>(len));
    ASSERT_EQ(status_of(prefix), ImageStatus::Truncated) << len << " bytes";
  }
  // Bytes after the image (a larger flash region) are ignored.
  std::vector<uint8_t> longer = good();
  longer.resize(longer.size() + 13, 0xA5);
  ParsedImage out;
  ASSERT_EQ(status_of(longer, &out), ImageStatus::Ok);
  EXPECT_EQ(out.image_bytes, good().size());
}

TEST_F(CorruptImageTest, EveryFlippedBitIsRefused) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  const size_t data_start = region_offset(g, ImageRegion::Data);
  int flips = 0;
  for (size_t at = 0; at < g.size(); ++at) {
    // Every bit before the data area; one bit per byte of the data.
    for (int bit = 0; bit < 8; ++bit) {
      if (at >= data_start && bit != static_cast<int>(at % 8)) continue;
      std::vector<uint8_t> b = g;
      b[at] = static_cast<uint8_t>(b[at] ^ (1u << bit));
      ImageStatus expected = ImageStatus::BadCrc;
      if (at < 8) {
        expected = ImageStatus::BadMagic;
      } else if (at < 12) {
        expected = ImageStatus::BadVersion;
      } else if (at < 16) {
        const uint32_t length = u32_at(b, 12);
        if (length < kImageHeaderBytes) {
          expected = ImageStatus::BadLength;
        } else if (length > b.size()) {
          expected = ImageStatus::Truncated;
        }
      }
      ASSERT_EQ(status_of(b), expected) << "byte " << at << " bit " << bit;
      ++flips;
    }
  }
  EXPECT_GT(flips, 1000);
}

TEST_F(CorruptImageTest, HeaderProblems) {
  ASSERT_FALSE(good().empty());
  std::vector<uint8_t> b = good();
  b[3] = 'X';
  EXPECT_EQ(status_of(b), ImageStatus::BadMagic);
  expect_resealed(kImageOffVersion, 1, ImageStatus::BadVersion, "version 1");
  expect_resealed(kImageOffVersion, 3, ImageStatus::BadVersion, "version 3");
  expect_resealed(kImageOffVersion, 0, ImageStatus::BadVersion, "version 0");
  expect_resealed(kImageOffImageBytes, 64, ImageStatus::BadLength, "length below the header");
  expect_resealed(kImageOffImageBytes, static_cast<uint32_t>(good().size()) + 4,
                  ImageStatus::Truncated, "length past the end");
  expect_resealed(kImageOffReserved0, 1, ImageStatus::BadField, "reserved word 0");
  expect_resealed(kImageOffReserved1, 0x80000000u, ImageStatus::BadField, "reserved word 1");
  expect_resealed(kImageOffMaxPayload, 0, ImageStatus::BadField, "max payload 0");
  expect_resealed(kImageOffMaxPayload, kMaxPayloadLimit + 1, ImageStatus::BadField,
                  "max payload over the limit");
  const uint32_t participants = u32_at(good(), kImageOffParticipantCount);
  expect_resealed(kImageOffParticipant, participants, ImageStatus::BadIndex, "participant");
  expect_resealed(kImageOffParticipant, 0xFFFFFFFFu, ImageStatus::BadIndex, "participant -1");
  expect_resealed(kImageOffParticipantCount, 0, ImageStatus::BadField, "no participants");
  const uint32_t tensors = region_count(good(), ImageRegion::Tensors);
  expect_resealed(kImageOffInputTensor, tensors, ImageStatus::BadIndex, "input tensor");
  expect_resealed(kImageOffOutputTensor, 0xFFFFFFFFu, ImageStatus::BadIndex, "output tensor");
  // A negative arena reaches check_program.
  ParsedImage out;
  EXPECT_EQ(status_of(resealed(kImageOffArenaBytes + 4, 0x80000000u), &out),
            ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "negative arena or scratch size");
}

TEST_F(CorruptImageTest, HugeCountsAndRegionsOutsideTheImage) {
  ASSERT_FALSE(good().empty());
  const struct {
    ImageRegion region;
    int32_t capacity;
    ImageStatus status;
  } tables[] = {
      {ImageRegion::Tensors, kMaxImageTensors, ImageStatus::TooManyTensors},
      {ImageRegion::Buffers, kMaxImageBuffers, ImageStatus::TooManyBuffers},
      {ImageRegion::Ops, kMaxImageOps, ImageStatus::TooManyOps},
      {ImageRegion::Layers, kMaxImageLayers, ImageStatus::TooManyLayers},
      {ImageRegion::Concat, kMaxImageConcatBlocks, ImageStatus::TooManyConcatBlocks},
  };
  for (const auto& t : tables) {
    const size_t count = image_region_offset_field(t.region) + 4;
    const std::string what = "region " + std::to_string(static_cast<int>(t.region));
    expect_resealed(count, 0xFFFFFFFFu, t.status, what + " count 2^32-1");
    expect_resealed(count, 0x80000000u, t.status, what + " count 2^31");
    expect_resealed(count, static_cast<uint32_t>(t.capacity) + 1, t.status, what + " capacity+1");
  }
  for (uint32_t r = 0; r < kImageRegionCount; ++r) {
    const auto region = static_cast<ImageRegion>(r);
    const size_t offset = image_region_offset_field(region);
    const std::string what = "region " + std::to_string(r);
    // Every region of this image holds something, so none fits at the end.
    ASSERT_GT(region_count(good(), region), 0u) << what;
    expect_resealed(offset, static_cast<uint32_t>(good().size()), ImageStatus::BadRegion,
                    what + " at the end");
    expect_resealed(offset, 0, ImageStatus::BadRegion, what + " inside the header");
    expect_resealed(offset, 0xFFFFFFFCu, ImageStatus::BadRegion, what + " far away");
    expect_resealed(offset, region_offset(good(), region) + 2, ImageStatus::Misaligned,
                    what + " misaligned");
  }
  expect_resealed(image_region_offset_field(ImageRegion::Name) + 4, 0xFFFFFFFFu,
                  ImageStatus::BadRegion, "name bytes");
  expect_resealed(image_region_offset_field(ImageRegion::Data) + 4,
                  region_count(good(), ImageRegion::Data) + 4, ImageStatus::BadRegion,
                  "data bytes");
}

TEST_F(CorruptImageTest, IndicesOutOfRange) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  const uint32_t tensors = region_count(g, ImageRegion::Tensors);
  const uint32_t buffers = region_count(g, ImageRegion::Buffers);
  const uint32_t layers = region_count(g, ImageRegion::Layers);
  const uint32_t concat = region_count(g, ImageRegion::Concat);
  const uint32_t participants = u32_at(g, kImageOffParticipantCount);
  const size_t buffer0 = word_at(g, ImageRegion::Buffers, kImageBufferRecordBytes, 0, 0);
  expect_resealed(buffer0 + 4 * image::kBufTensor, tensors, ImageStatus::BadIndex, "buffer tensor");
  expect_resealed(op_word(g, DeviceOpKind::Send, image::kOpSrcBuffer), buffers,
                  ImageStatus::BadIndex, "send source buffer");
  expect_resealed(op_word(g, DeviceOpKind::Receive, image::kOpDstBuffer), 0xFFFFFFFEu,
                  ImageStatus::BadIndex, "receive buffer -2");
  expect_resealed(op_word(g, DeviceOpKind::Send, image::kOpPeer), participants,
                  ImageStatus::BadIndex, "send peer");
  expect_resealed(op_word(g, DeviceOpKind::Send, image::kOpTensor), tensors, ImageStatus::BadIndex,
                  "send tensor");
  expect_resealed(op_word(g, DeviceOpKind::Compute, image::kOpParams), layers,
                  ImageStatus::BadIndex, "compute layer entry");
  expect_resealed(op_word(g, DeviceOpKind::Compute, image::kOpParams), 0xFFFFFFFFu,
                  ImageStatus::BadIndex, "compute without layer entry");
  expect_resealed(op_word(g, DeviceOpKind::Send, image::kOpParams), 0, ImageStatus::BadIndex,
                  "send with a layer entry");
  expect_resealed(op_word(g, DeviceOpKind::Compute, image::kOpInputs), buffers,
                  ImageStatus::BadIndex, "compute input buffer");
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerOutputTensor), tensors,
                  ImageStatus::BadIndex, "layer output tensor");
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerInputs), tensors, ImageStatus::BadIndex,
                  "layer input tensor");
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerLayer), 0xFFFFFFFFu,
                  ImageStatus::BadIndex, "graph layer -1");
  expect_resealed(
      param_word(g, OpType::Concat, image::concat_ref_word(OpType::Concat) + image::kConcatFirst),
      concat, ImageStatus::BadIndex, "concat blocks past the table");
  expect_resealed(
      param_word(g, OpType::Concat, image::concat_ref_word(OpType::Concat) + image::kConcatFirst),
      0xFFFFFFFFu, ImageStatus::BadIndex, "concat blocks at 2^32-1");
}

TEST_F(CorruptImageTest, BadKindsAndFields) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  expect_resealed(op_word(g, DeviceOpKind::Send, image::kOpKind), 6, ImageStatus::BadKind,
                  "op kind 6");
  // The first value past the last operator.
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerKind), kernels::kOpTypeCount,
                  ImageStatus::BadKind, "layer kind past the operators");
  expect_resealed(op_word(g, DeviceOpKind::Compute, image::kOpInputCount), 9, ImageStatus::BadField,
                  "op input count 9");
  expect_resealed(op_word(g, DeviceOpKind::Compute, image::kOpInputCount), 0xFFFFFFFFu,
                  ImageStatus::BadField, "op input count -1");
  expect_resealed(op_word(g, DeviceOpKind::Compute, image::kOpInputs + 7), 0, ImageStatus::BadField,
                  "unused op input slot");
  expect_resealed(op_word(g, DeviceOpKind::Send, image::kOpInputCount), 1, ImageStatus::BadField,
                  "send with inputs");
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerInputCount), 0, ImageStatus::BadField,
                  "layer without inputs");
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerInputCount), 100, ImageStatus::BadField,
                  "layer input count 100");
  expect_resealed(layer_word(g, OpType::Conv, image::kLayerInputs + 7), 0, ImageStatus::BadField,
                  "unused layer input slot");
  expect_resealed(
      param_word(g, OpType::FullyConnected, image::param_block_words(OpType::FullyConnected)), 1,
      ImageStatus::BadField, "word after the fully connected block");
  expect_resealed(param_word(g, OpType::FullyConnected, image::kImageParamWords - 1), 1,
                  ImageStatus::BadField, "last word of the fully connected block");
  expect_resealed(param_word(g, OpType::Concat, image::param_block_words(OpType::Concat)), 1,
                  ImageStatus::BadField, "word after the concat block");
  expect_resealed(
      param_word(g, OpType::Concat, image::concat_ref_word(OpType::Concat) + image::kConcatCount),
      0, ImageStatus::BadField, "concat blocks other than its inputs");
  expect_resealed(
      param_word(g, OpType::FullyConnected, field(OpType::FullyConnected, "per_tensor_requant")), 2,
      ImageStatus::BadField, "per-tensor flag 2");
}

TEST_F(CorruptImageTest, ConstantsOfTheWrongSizeOrPlace) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  const uint32_t data_bytes = region_count(g, ImageRegion::Data);
  const size_t weights = param_word(
      g, OpType::Conv, image::constant_ref_word(OpType::Conv, image::ConstantArray::Weights));
  const size_t bias = param_word(
      g, OpType::Conv, image::constant_ref_word(OpType::Conv, image::ConstantArray::Bias));
  const size_t shift = param_word(
      g, OpType::Conv, image::constant_ref_word(OpType::Conv, image::ConstantArray::Shift));
  expect_resealed(weights + 4, u32_at(g, weights + 4) - 1, ImageStatus::BadConstants,
                  "one weight short");
  expect_resealed(weights + 4, 0xFFFFFFFFu, ImageStatus::BadConstants, "2^32-1 weights");
  expect_resealed(bias + 4, u32_at(g, bias + 4) + 1, ImageStatus::BadConstants, "bias too long");
  expect_resealed(shift + 4, 0, ImageStatus::BadConstants, "no shifts");
  expect_resealed(param_word(g, OpType::Conv, field(OpType::Conv, "groups")), 0,
                  ImageStatus::BadConstants, "groups 0");
  expect_resealed(param_word(g, OpType::Conv, field(OpType::Conv, "kernel_h")), 0x7FFFFFFFu,
                  ImageStatus::BadConstants, "huge kernel");
  expect_resealed(param_word(g, OpType::Conv, field(OpType::Conv, "weights_c1")),
                  u32_at(g, param_word(g, OpType::Conv, field(OpType::Conv, "weights_c0"))),
                  ImageStatus::BadConstants, "empty channel range");
  expect_resealed(
      param_word(g, OpType::FullyConnected, field(OpType::FullyConnected, "weights_n1")),
      0x7FFFFFFFu, ImageStatus::BadConstants, "fully connected neurons past the weights");
  expect_resealed(bias, u32_at(g, bias) + 2, ImageStatus::Misaligned, "misaligned bias");
  expect_resealed(weights, data_bytes, ImageStatus::BadRegion, "weights at the data end");
  expect_resealed(weights, 0xFFFFFFFCu, ImageStatus::BadRegion, "weights far away");
  expect_resealed(shift, data_bytes - 4, ImageStatus::BadRegion, "shift past the data end");
  // An absent bias must say so with offset 0 too.
  std::vector<uint8_t> b = good();
  store_le32(b.data() + bias + 4, 0);
  store_le32(b.data() + bias, 4);
  reseal(b);
  EXPECT_EQ(status_of(b), ImageStatus::BadField);
  // ... and with offset 0 it is a conv without bias.
  store_le32(b.data() + bias, 0);
  reseal(b);
  EXPECT_EQ(status_of(b), ImageStatus::Ok);
}

TEST_F(CorruptImageTest, InconsistentProgramsReachCheckProgram) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  ParsedImage out;
  // A buffer reaching past the arena.
  const uint32_t last = region_count(g, ImageRegion::Buffers) - 1;
  const size_t offset =
      word_at(g, ImageRegion::Buffers, kImageBufferRecordBytes, last, image::kBufOffset);
  EXPECT_EQ(status_of(resealed(offset, u32_at(g, kImageOffArenaBytes)), &out),
            ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "buffer outside the arena");
  EXPECT_EQ(out.problem.index, static_cast<int32_t>(last));
  // A send box outside its tensor.
  const size_t box = op_word(g, DeviceOpKind::Send, image::kOpBox);
  EXPECT_EQ(status_of(resealed(box, 0xFFFFFFFFu), &out), ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "op box outside its tensor");
  EXPECT_GE(out.problem.op_index, 0);
  // A send to itself.
  EXPECT_EQ(status_of(resealed(op_word(g, DeviceOpKind::Send, image::kOpPeer),
                               u32_at(g, kImageOffParticipant)),
                      &out),
            ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "transfer peer out of range");
  // A tensor of more than 2^31 - 1 elements: its volume overflowed int32 in
  // a fully connected op's check (fuzz_device_image, UBSan).
  const size_t channels = word_at(g, ImageRegion::Tensors, kImageTensorRecordBytes, 0, 0);
  EXPECT_EQ(status_of(resealed(channels, 0x7FFFFFFF), &out), ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "tensor of more than 2^31 - 1 elements");
  EXPECT_EQ(out.problem.index, 0);
  // A concat input placed at an offset near the int32 limit: shifting a box
  // by it overflowed (fuzz_device_image, UBSan).
  ASSERT_GT(region_count(g, ImageRegion::Concat), 0u);
  const size_t offset_c = word_at(g, ImageRegion::Concat, kImageConcatRecordBytes, 0, 6);
  EXPECT_EQ(status_of(resealed(offset_c, 0x80000000u), &out), ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "an input placed outside the output");
  // One whose c * h * w overflows even an int64 (UBSan in the first fix).
  std::vector<uint8_t> huge = g;
  for (size_t word = 0; word < 3; ++word) store_le32(huge.data() + channels + 4 * word, 0x7FFFFFFF);
  reseal(huge);
  EXPECT_EQ(status_of(huge, &out), ImageStatus::BadProgram);
  EXPECT_STREQ(out.problem.what, "tensor of more than 2^31 - 1 elements");
}

TEST_F(CorruptImageTest, StorageTooSmallForTheImage) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  ParsedImage out;
  auto tiny_ops = std::make_unique<BasicDeviceImageStorage<128, 256, 1, 128, 64>>();
  EXPECT_EQ(parse_device_image(g.data(), g.size(), tiny_ops.get(), &out), ImageStatus::TooManyOps);
  auto tiny_buffers = std::make_unique<BasicDeviceImageStorage<128, 1, 2048, 128, 64>>();
  EXPECT_EQ(parse_device_image(g.data(), g.size(), tiny_buffers.get(), &out),
            ImageStatus::TooManyBuffers);
  // Exactly the counts of the image is enough.
  std::vector<TensorShape3> shapes(region_count(g, ImageRegion::Tensors));
  std::vector<DeviceBuffer> buffers(region_count(g, ImageRegion::Buffers));
  std::vector<DeviceOp> ops(region_count(g, ImageRegion::Ops));
  std::vector<DeviceLayer> layers(region_count(g, ImageRegion::Layers));
  std::vector<kernels::Int8ConcatParams> concat(region_count(g, ImageRegion::Concat));
  const auto n = [](const auto& v) { return static_cast<int32_t>(v.size()); };
  ImageStorageView exact{shapes.data(), n(shapes),     buffers.data(), n(buffers),    ops.data(),
                         n(ops),        layers.data(), n(layers),      concat.data(), n(concat)};
  EXPECT_EQ(parse_device_image(g.data(), g.size(), exact, &out), ImageStatus::Ok);
  EXPECT_EQ(out.program.ops, ops.data());
  exact.layer_capacity -= 1;
  EXPECT_EQ(parse_device_image(g.data(), g.size(), exact, &out), ImageStatus::TooManyLayers);
}

TEST_F(CorruptImageTest, BadArgumentsAndAlignment) {
  ASSERT_FALSE(good().empty());
  const std::vector<uint8_t>& g = good();
  auto storage = std::make_unique<DeviceImageStorage>();
  ParsedImage out;
  EXPECT_EQ(parse_device_image(g.data(), g.size(), storage.get(), nullptr),
            ImageStatus::BadArgument);
  DeviceImageStorage* no_storage = nullptr;
  EXPECT_EQ(parse_device_image(g.data(), g.size(), no_storage, &out), ImageStatus::BadArgument);
  EXPECT_EQ(parse_device_image(nullptr, g.size(), storage.get(), &out), ImageStatus::BadArgument);
  EXPECT_EQ(parse_device_image(nullptr, 0, storage.get(), &out), ImageStatus::Truncated);
  ImageStorageView null_table = storage->view();
  null_table.ops = nullptr;
  EXPECT_EQ(parse_device_image(g.data(), g.size(), null_table, &out), ImageStatus::BadArgument);
  // The same bytes at every offset within a word: only 4-byte aligned starts parse.
  std::vector<uint8_t> shifted(g.size() + 8);
  for (size_t k = 0; k < 8; ++k) {
    std::copy(g.begin(), g.end(), shifted.begin() + static_cast<std::ptrdiff_t>(k));
    EXPECT_EQ(parse_device_image(shifted.data() + k, g.size(), storage.get(), &out),
              k % 4 == 0 ? ImageStatus::Ok : ImageStatus::Misaligned)
        << "offset " << k;
  }
}

TEST(DeviceImage, StatusNamesAreDistinct) {
  std::vector<std::string> names;
  for (int s = 0; s <= static_cast<int>(ImageStatus::BadProgram); ++s) {
    const std::string name = device_image_status_name(static_cast<ImageStatus>(s));
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown status") << s;
    EXPECT_EQ(std::count(names.begin(), names.end(), name), 0) << name;
    names.push_back(name);
  }
}

TEST(DeviceImage, TheWriterRefusesWhatTheParserWould) {
  const TinyProgram tiny;
  EXPECT_THROW(host::write_device_image(tiny.program, 1, 0, "dev"), Error);
  EXPECT_THROW(host::write_device_image(tiny.program, 1, kMaxPayloadLimit + 1, "dev"), Error);

  TinyProgram bad_buffer;
  bad_buffer.buffers[1].offset = 11;  // past the 12-byte arena
  EXPECT_THROW(host::write_device_image(bad_buffer.program, 1, 1372, "dev"), Error);

  TinyProgram small_scratch;  // the fully connected kernel states 0: 4 bytes cannot be short
  small_scratch.ops[1].scratch_offset = 10;  // past the arena
  EXPECT_THROW(host::write_device_image(small_scratch.program, 1, 1372, "dev"), Error);

  TinyProgram no_weights;
  no_weights.layer.fc.weights = nullptr;
  EXPECT_THROW(host::write_device_image(no_weights.program, 1, 1372, "dev"), Error);

  TinyProgram no_range;
  no_range.layer.fc.weights_n1 = 0;
  EXPECT_THROW(host::write_device_image(no_range.program, 1, 1372, "dev"), Error);

  // An input slot on a store_output: check_program lets it pass, the format
  // does not; the writer's own parse catches it.
  TinyProgram store_inputs;
  store_inputs.ops[2].input_count = 1;
  store_inputs.ops[2].inputs[0] = 1;
  try {
    host::write_device_image(store_inputs.program, 1, 1372, "dev");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad field"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mcusplit::device
