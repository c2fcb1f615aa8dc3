// The HTML plan report: self-contained, escaped, well-formed, one chart per
// figure, and the figures it must show (traffic bytes, RAM warnings, tooltips).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "plan/plan_report.h"
#include "plan/report_format.h"
#include "quant/qgraph_builder.h"

namespace mcusplit::plan {
namespace {

namespace fs = std::filesystem;

const std::string kEvil = "ev<b>&\"il'";  // a device name straight from a user's file
const std::string kEvilEscaped = "ev&lt;b&gt;&amp;&quot;il&#39;";

quant::QGraph tiny_graph() {
  mcusplit::testing::QGraphBuilder b(7);
  const int in = b.input({3, 8, 8});
  const int c1 = b.conv(in, 8, 3, 1, 1);
  const int c2 = b.conv(c1, 16, 3, 2, 1);
  const int gap = b.global_average_pool(c2);
  return b.finish(b.fully_connected(gap, 10));
}

PlanOp send(int step, int peer, core::Box box) {
  PlanOp op;
  op.kind = OpKind::Send;
  op.step = step;
  op.peer = peer;
  op.box = box;
  return op;
}

TimelineEvent event(int participant, OpKind kind, int step, int peer, double start, double end) {
  return TimelineEvent{participant, kind, step, peer, start, end};
}

// Two devices ("alpha" within budget, kEvil above it) and the coordinator.
Plan two_device_plan() {
  Plan plan;
  plan.model_name = "tiny.onnx";
  plan.model_hash = 0xabcdef;
  plan.strategy = "auto";
  plan.objective = "latency";
  plan.cluster.devices = {{"alpha", "teensy41", 64 * 1024, 1 << 20, 2e8, 1e8, 1e-4},
                          {kEvil, "", 32 * 1024, 512 * 1024, 1e8, 1e8, 1e-4}};
  plan.coordinator_spec = {1e8, 1e-4, 2e9};
  plan.layers.resize(4);
  for (LayerPlan& l : plan.layers) {
    l.strategy = Strategy::Channel;
    l.boxes = {{0, 4, 0, 8, 0, 8}, {4, 8, 0, 8, 0, 8}, {}};
  }
  plan.layers[3].strategy = Strategy::Single;
  plan.layers[3].boxes = {{}, {}, {0, 10, 0, 1, 0, 1}};

  ParticipantPlan alpha;
  alpha.name = "alpha";
  alpha.ram_bytes = 64 * 1024;
  alpha.flash_bytes = 1 << 20;
  alpha.arena_bytes = 20000;
  alpha.weight_bytes = 3000;
  alpha.ops = {send(1, 1, {0, 5, 0, 13, 0, 19}), send(2, 1, {0, 4, 0, 5, 0, 5}),
               send(3, 2, {0, 2, 0, 5, 0, 1})};
  alpha.estimate = {5000, 1345, 192, 3, 0.004, 0.011, {1000, 15000, 20000, 8000, 0}};
  ParticipantPlan evil;
  evil.name = kEvil;
  evil.ram_bytes = 32 * 1024;
  evil.flash_bytes = 512 * 1024;
  evil.arena_bytes = 40000;  // above its budget
  evil.weight_bytes = 2000;
  evil.estimate = {4000, 0, 1335, 0, 0.006, 0.012, {900, 30000, 40000, 9000, 0}};
  ParticipantPlan coordinator;
  coordinator.name = "coordinator";
  coordinator.coordinator = true;
  coordinator.ops = {send(0, 0, {0, 3, 0, 8, 0, 8})};
  coordinator.estimate = {160, 192, 10, 1, 0.0001, 0.0123, {192, 0, 0, 0, 10}};
  plan.participants = {alpha, evil, coordinator};

  plan.estimated_latency_s = 0.0123;
  plan.timeline = {event(2, OpKind::Send, 0, 0, 0, 0.0005),
                   event(0, OpKind::Receive, 0, 2, 0, 0.0005),
                   event(0, OpKind::Compute, 0, -1, 0.0005, 0.003),
                   event(1, OpKind::Compute, 0, -1, 0.0005, 0.004),
                   event(0, OpKind::Send, 1, 1, 0.003, 0.005),
                   event(1, OpKind::Receive, 1, 0, 0.004, 0.005),
                   event(1, OpKind::Compute, 3, -1, 0.005, 0.012),
                   event(2, OpKind::Compute, 4, -1, 0.012, 0.0123)};
  return plan;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The i-th <svg>...</svg> of the document ("" if there is none).
std::string svg_at(const std::string& html, size_t index) {
  size_t at = 0;
  for (size_t i = 0; i <= index; ++i) {
    at = html.find("<svg ", i ? at + 1 : 0);
    if (at == std::string::npos) return "";
  }
  return html.substr(at, html.find("</svg>", at) + 6 - at);
}

// "" if every tag is closed in order, every '&' starts an entity and no raw
// '<' or '>' hides in text or attributes; otherwise what went wrong.
std::string markup_problem(const std::string& html) {
  const std::vector<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
  const std::vector<std::string> kEntities = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
  std::vector<std::string> open;
  for (size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '&') {
      bool known = false;
      for (const std::string& e : kEntities) known = known || html.compare(i, e.size(), e) == 0;
      if (!known) return "bare & at " + std::to_string(i);
    }
    if (html[i] == '>') return "stray > at " + std::to_string(i);
    if (html[i] != '<') continue;
    const size_t end = html.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    const std::string tag = html.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return "< inside tag " + tag;
    i = end;
    if (tag.rfind("!DOCTYPE", 0) == 0) continue;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes <" + (open.empty() ? "" : open.back()) + ">";
      }
      open.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
    if (tag.back() == '/' || std::find(kVoid.begin(), kVoid.end(), name) != kVoid.end()) continue;
    open.push_back(name);
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

TEST(PlanReport, IsOneSelfContainedHtmlDocument) {
  const std::string html = render_plan_report(two_device_plan(), tiny_graph());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // The only URL is the SVG namespace, which is a name, not a fetch.
  std::string rest = html;
  const std::string xmlns = "xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t at; (at = rest.find(xmlns)) != std::string::npos;) rest.erase(at, xmlns.size());
  EXPECT_EQ(rest.find("http://"), std::string::npos);
  EXPECT_EQ(rest.find("https://"), std::string::npos);
  EXPECT_EQ(markup_problem(html), "");
}

TEST(PlanReport, HeaderAndTablesShowThePlan) {
  const quant::QGraph graph = tiny_graph();
  const std::string html = render_plan_report(two_device_plan(), graph);
  for (const char* text :
       {"tiny.onnx", "auto", "latency", "switched", "12.3 ms", "teensy41", "coordinator",
        "unbounded", "channel", "single", "16x4x4", "100 Mbit/s", "1372 bytes"}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
  for (const quant::QLayer& l : graph.layers) EXPECT_NE(html.find(l.name), std::string::npos);
  // Total bytes transferred: every Send once (1345 + 0 + 192).
  EXPECT_NE(html.find("(1537 bytes)"), std::string::npos);
}

TEST(PlanReport, OneSvgPerChartAndEveryDeviceNamed) {
  const std::string html = render_plan_report(two_device_plan(), tiny_graph());
  EXPECT_EQ(count(html, "<svg "), 4u);
  EXPECT_EQ(count(html, "</svg>"), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const std::string svg = svg_at(html, i);
    EXPECT_NE(svg.find("alpha"), std::string::npos) << i;
    EXPECT_NE(svg.find(kEvilEscaped), std::string::npos) << i;
  }
  EXPECT_NE(svg_at(html, 2).find(">coordinator<"), std::string::npos);  // timeline row
}

TEST(PlanReport, UserTextIsOnlyEverEscaped) {
  Plan plan = two_device_plan();
  plan.model_name = "<script>alert('x')</script>";
  quant::QGraph graph = tiny_graph();
  graph.layers[0].name = "conv&<i>";
  const std::string html = render_plan_report(plan, graph);
  EXPECT_EQ(html.find(kEvil), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_GE(count(html, kEvilEscaped), 6u);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("conv&amp;&lt;i&gt;"), std::string::npos);
  EXPECT_EQ(markup_problem(html), "");
}

TEST(PlanReport, TrafficMatrixSumsSendOps) {
  const std::string traffic = svg_at(render_plan_report(two_device_plan(), tiny_graph()), 3);
  // Two sends from alpha to the second device: 5*13*19 + 4*5*5 bytes.
  EXPECT_NE(traffic.find("sent from alpha to " + kEvilEscaped + ": 1335 bytes"), std::string::npos);
  EXPECT_NE(traffic.find("sent from coordinator to alpha: 192 bytes"), std::string::npos);
  EXPECT_NE(traffic.find("sent from alpha to coordinator: 10 bytes"), std::string::npos);
  EXPECT_NE(traffic.find("sent from " + kEvilEscaped + " to alpha: 0 bytes"), std::string::npos);
  EXPECT_EQ(count(traffic, "class=\"heat\""), 3u);
}

TEST(PlanReport, OverBudgetDeviceIsFlagged) {
  const std::string html = render_plan_report(two_device_plan(), tiny_graph());
  const std::string bars = svg_at(html, 0);
  auto bar_class = [&](const std::string& name) {
    const size_t rect = bars.find("<rect", bars.find(name));
    return bars.substr(rect, bars.find('>', rect) - rect);
  };
  EXPECT_NE(bar_class(kEvilEscaped).find("class=\"bar warn over\""), std::string::npos);
  EXPECT_NE(bar_class("alpha").find("class=\"bar\""), std::string::npos);
  EXPECT_EQ(count(bars, "class=\"budget\""), 2u);
  EXPECT_NE(bars.find("39.1 KiB of 32.0 KiB (122%)"), std::string::npos);
  // The participants table flags the same peak.
  EXPECT_EQ(count(html, "<td class=\"n warn over\" title=\"40000 bytes\">"), 1u);
  EXPECT_EQ(count(html, "<td class=\"n\" title=\"20000 bytes\">"), 1u);
}

TEST(PlanReport, WarnsFromNinetyPercentOfBudget) {
  Plan plan = two_device_plan();
  plan.participants[0].arena_bytes = 60000;  // 91.6% of 64 KiB
  const std::string bars = svg_at(render_plan_report(plan, tiny_graph()), 0);
  EXPECT_EQ(count(bars, "class=\"bar warn\""), 1u);
  EXPECT_EQ(count(bars, "class=\"bar warn over\""), 1u);
}

TEST(PlanReport, MemoryProfileHasOneLinePerDeviceAndTheSmallestBudget) {
  const quant::QGraph graph = tiny_graph();
  const std::string profile = svg_at(render_plan_report(two_device_plan(), graph), 1);
  EXPECT_EQ(count(profile, "<polyline"), 2u);  // devices only, not the coordinator
  EXPECT_EQ(count(profile, "<circle"), 10u);   // L + 1 steps each
  EXPECT_EQ(count(profile, "class=\"limit\""), 1u);
  EXPECT_NE(profile.find("smallest RAM budget (" + kEvilEscaped + "): 32.0 KiB"),
            std::string::npos);
  EXPECT_NE(profile.find("alpha, step 2 (" + graph.layers[2].name + "): 19.5 KiB live"),
            std::string::npos);
  EXPECT_NE(profile.find("step 4 (output)"), std::string::npos);

  // A budget far above every line is named rather than drawn, so the lines keep their shape.
  Plan roomy = two_device_plan();
  for (ParticipantPlan& p : roomy.participants) p.ram_bytes = p.coordinator ? 0 : 1 << 20;
  const std::string flat = svg_at(render_plan_report(roomy, graph), 1);
  EXPECT_EQ(count(flat, "class=\"limit\""), 0u);
  EXPECT_NE(flat.find("smallest RAM budget (alpha): 1.0 MiB, above this scale"), std::string::npos);
  EXPECT_NE(flat.find(">40 KiB<"), std::string::npos);  // the top tick follows the data
}

TEST(PlanReport, TimelineHasOneRectPerEventWithStepAndPeer) {
  const quant::QGraph graph = tiny_graph();
  const std::string timeline = svg_at(render_plan_report(two_device_plan(), graph), 2);
  // Three legend swatches plus the eight events.
  EXPECT_EQ(count(timeline, "<rect class=\"compute\""), 1u + 4u);
  EXPECT_EQ(count(timeline, "<rect class=\"send\""), 1u + 2u);
  EXPECT_EQ(count(timeline, "<rect class=\"receive\""), 1u + 2u);
  EXPECT_NE(timeline.find("<title>alpha: send to " + kEvilEscaped + ", step 1 (" +
                          graph.layers[1].name + "), 3.00 ms to 5.00 ms (2.00 ms)</title>"),
            std::string::npos);
  EXPECT_NE(timeline.find("<title>alpha: receive from coordinator, step 0"), std::string::npos);
  EXPECT_NE(timeline.find("estimated latency 12.3 ms"), std::string::npos);
}

TEST(PlanReport, MissingAndInconsistentPartsRenderAsSuch) {
  for (const Plan& plan :
       {Plan{}, [] {
          Plan p = two_device_plan();
          for (ParticipantPlan& pp : p.participants) pp.estimate = {};
          p.participants[0].name.clear();
          p.participants[0].ops.push_back(send(0, 42, {0, 1, 0, 1, 0, 1}));  // unknown peer
          p.timeline.push_back(event(9, OpKind::Compute, 99, -1, 0, 1));     // unknown participant
          p.layers.resize(2);
          p.estimated_latency_s = std::numeric_limits<double>::quiet_NaN();
          return p;
        }()}) {
    for (const quant::QGraph& graph : {quant::QGraph{}, tiny_graph()}) {
      const std::string html = render_plan_report(plan, graph);
      EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
      EXPECT_EQ(count(html, "<svg "), 4u);
      EXPECT_EQ(markup_problem(html), "");
    }
  }
  const std::string empty = render_plan_report(Plan{}, quant::QGraph{});
  EXPECT_NE(empty.find("no devices in the plan"), std::string::npos);
  EXPECT_NE(empty.find("no timeline in the plan"), std::string::npos);
}

std::string temp_dir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(::testing::TempDir()) /
                       ("mcusplit_report_" + std::string(info->name()) + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

TEST(PlanReport, WriteReplacesTheFileWithTheRenderedDocument) {
  const std::string dir = temp_dir(), path = dir + "/report.html";
  std::ofstream(path) << "old";
  const Plan plan = two_device_plan();
  write_plan_report(plan, tiny_graph(), path);
  std::stringstream written;
  written << std::ifstream(path).rdbuf();
  EXPECT_EQ(written.str(), render_plan_report(plan, tiny_graph()));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"report.html"});
  fs::remove_all(dir);
}

TEST(PlanReport, WriteFailuresNameThePathAndLeaveNoTemporary) {
  const std::string dir = temp_dir();
  const std::string missing = dir + "/no/such/dir/report.html";
  try {
    write_plan_report(two_device_plan(), tiny_graph(), missing);
    ADD_FAILURE() << "expected an mcusplit::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'" + missing + "'"), std::string::npos) << e.what();
  }
  // The temporary can be created but not renamed over a directory.
  const std::string occupied = dir + "/report.html";
  fs::create_directory(occupied);
  try {
    write_plan_report(two_device_plan(), tiny_graph(), occupied);
    ADD_FAILURE() << "expected an mcusplit::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'" + occupied + "'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(listing(dir), std::vector<std::string>{"report.html"});
  fs::remove_all(dir);
}

TEST(PlanReport, HumanReadableNumbers) {
  using namespace report;
  EXPECT_EQ(html_escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(256 * 1024), "256 KiB");
  EXPECT_EQ(format_bytes(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
  EXPECT_EQ(format_ms(0.000123), "0.123 ms");
  EXPECT_EQ(format_ms(0.0123), "12.3 ms");
  EXPECT_EQ(format_ms(0.25), "250 ms");
  EXPECT_EQ(format_count(950), "950");
  EXPECT_EQ(format_count(300'000'000), "300 M");
  EXPECT_EQ(format_count(100'000'000, "bit/s"), "100 Mbit/s");
  EXPECT_EQ(format_count(950, "bit/s"), "950 bit/s");
  EXPECT_EQ(shorten("\xc3\xa9t\xc3\xa9s", 2), "\xc3\xa9t...");
  const Axis a = nice_byte_axis(40000);
  EXPECT_EQ(a.step, 10 * 1024);
  EXPECT_EQ(a.top, 40 * 1024);
  EXPECT_EQ(a.ticks().size(), 5u);
  EXPECT_EQ(a.label(20 * 1024), "20 KiB");
  EXPECT_EQ(nice_axis(0.0123 * 1e3, 8, "ms").label(2.5), "2.5 ms");
  EXPECT_EQ(nice_byte_axis(1000).label(200), "200 B");
}

}  // namespace
}  // namespace mcusplit::plan
