#include "host/run_modes.h"

#include <array>
#include <utility>

#include "common/error.h"

namespace mcusplit::host {
namespace {

// One table per enum: the word of each value, in both directions.
template <typename Mode, size_t N>
using Words = std::array<std::pair<Mode, const char*>, N>;

constexpr Words<RunTargets, 2> kTargets{
    {{RunTargets::Workers, "workers"}, {RunTargets::Qemu, "qemu"}}};
constexpr Words<RunTopology, 3> kTopologies{{{RunTopology::FromPlan, ""},
                                             {RunTopology::Switched, "switched"},
                                             {RunTopology::Star, "star"}}};
constexpr Words<RunLink, 2> kLinks{{{RunLink::Uart, "uart"}, {RunLink::Ethernet, "ethernet"}}};
constexpr Words<ImageDelivery, 2> kDeliveries{
    {{ImageDelivery::Loader, "loader"}, {ImageDelivery::Link, "link"}}};
constexpr Words<OnFailure, 2> kOnFailure{
    {{OnFailure::Stop, "stop"}, {OnFailure::Replan, "replan"}}};

template <typename Mode, size_t N>
Mode parse_word(const Words<Mode, N>& words, const std::string& word, const char* what) {
  std::string accepted;
  for (const auto& [mode, text] : words) {
    if (word == text) return mode;
    if (*text == '\0') continue;
    accepted += accepted.empty() ? text : std::string(", ") + text;
  }
  throw Error(std::string(what) + " '" + word + "' is not one of: " + accepted);
}

template <typename Mode, size_t N>
const char* word_of(const Words<Mode, N>& words, Mode mode) {
  for (const auto& [m, text] : words) {
    if (m == mode) return text;
  }
  return "?";
}

}  // namespace

RunTargets parse_run_targets(const std::string& word) {
  return parse_word(kTargets, word, "--targets");
}
RunTopology parse_run_topology(const std::string& word) {
  return parse_word(kTopologies, word, "--topology");
}
RunLink parse_run_link(const std::string& word) {
  return parse_word(kLinks, word, "--link");
}
ImageDelivery parse_image_delivery(const std::string& word) {
  return parse_word(kDeliveries, word, "--provision");
}
OnFailure parse_on_failure(const std::string& word) {
  return parse_word(kOnFailure, word, "--on-failure");
}

const char* name(RunTargets targets) {
  return word_of(kTargets, targets);
}
const char* name(RunTopology topology) {
  return word_of(kTopologies, topology);
}
const char* name(RunLink link) {
  return word_of(kLinks, link);
}
const char* name(ImageDelivery delivery) {
  return word_of(kDeliveries, delivery);
}
const char* name(OnFailure on_failure) {
  return word_of(kOnFailure, on_failure);
}

}  // namespace mcusplit::host
