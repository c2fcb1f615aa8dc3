#include "host/chrome_trace.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace mcusplit::host {

namespace {

std::string step_name(const plan::PlanFile& file, int step) {
  if (step >= 0 && static_cast<size_t>(step) < file.graph.layers.size()) {
    return file.graph.layers[static_cast<size_t>(step)].name;
  }
  return "output";
}

}  // namespace

std::string chrome_trace_json(const plan::PlanFile& file,
                              const std::vector<InferenceTrace>& traces) {
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"args", {{"name", "mcusplit run " + file.plan.model_name}}}});
  const auto& participants = file.plan.participants;
  for (size_t p = 0; p < participants.size(); ++p) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", p},
                      {"args", {{"name", participants[p].name}}}});
    // Devices first, the coordinator last, as in the plan.
    events.push_back({{"name", "thread_sort_index"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", p},
                      {"args", {{"sort_index", p}}}});
  }
  for (size_t k = 0; k < traces.size(); ++k) {
    const InferenceTrace& t = traces[k];
    for (size_t p = 0; p < t.spans.size() && p < participants.size(); ++p) {
      const double track_us = (t.start_s + t.offset_s[p]) * 1e6;
      for (const Span& s : t.spans[p]) {
        const std::string layer = step_name(file, s.step);
        const std::string kind = span_kind_name(s.kind);
        events.push_back({{"name", s.kind == SpanKind::Compute ? layer : kind + " " + layer},
                          {"cat", kind},
                          {"ph", "X"},
                          {"pid", 1},
                          {"tid", p},
                          {"ts", std::llround(track_us) + s.begin_us},
                          {"dur", s.duration_us},
                          {"args", {{"inference", k}, {"step", s.step}, {"layer", layer}}}});
      }
    }
  }
  const nlohmann::json trace{{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  return trace.dump(1) + "\n";
}

}  // namespace mcusplit::host
