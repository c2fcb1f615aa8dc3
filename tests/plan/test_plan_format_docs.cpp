// docs/plan_format.md's header table and record tables must be the field
// lists of plan/plan_file_records.h: compared row by row, type and name.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "plan/plan_file.h"
#include "support/markdown_table.h"

namespace mcusplit::plan {
namespace {

const std::string kDoc = std::string(MCUSPLIT_SOURCE_DIR) + "/docs/plan_format.md";

struct Field {
  std::string type, name;
  size_t bytes = 0;  // fixed-size fields; 0 for the others
};

// The fields of a list as the doc spells their types.
struct FieldSpelling {
  std::vector<Field> fields;
  void add(std::string type, const char* name, size_t bytes = 0) {
    fields.push_back({std::move(type), name, bytes});
  }
  template <class... T>
  void magic(const char* n, const T&...) {
    add("u8[8]", n, 8);
  }
  template <class... T>
  void kind(const char* n, const T&...) {
    add("u8", n, 1);
  }
  template <class T>
  void flag(const char* n, const T&) {
    add("u8", n, 1);
  }
  template <class T>
  void i32(const char* n, const T&) {
    add("i32", n, 4);
  }
  template <class T>
  void u32(const char* n, const T&) {
    add("u32", n, 4);
  }
  template <class T>
  void i64(const char* n, const T&) {
    add("i64", n, 8);
  }
  template <class T>
  void u64(const char* n, const T&) {
    add("u64", n, 8);
  }
  template <class T>
  void f64(const char* n, const T&) {
    add("f64", n, 8);
  }
  template <class T>
  void str(const char* n, const T&) {
    add("string", n);
  }
  template <class T>
  void box(const char* n, const T&) {
    add("box", n, 24);
  }
  template <class T>
  void i8s(const char* n, const T&) {
    add("i8[]", n);
  }
  template <class T>
  void i32s(const char* n, const T&) {
    add("i32[]", n);
  }
  template <class T>
  void i64s(const char* n, const T&) {
    add("i64[]", n);
  }
  template <class T>
  void boxes(const char* n, const T&) {
    add("box[]", n);
  }
  template <class T>
  void record(const char* n, const T&, const char* type) {
    add(type, n);
  }
  template <class T>
  void list(const char* n, const T&, const char* type) {
    add(std::string(type) + "[]", n);
  }
  template <class... T>
  void slices(const char* n, const T&...) {
    add("slice[]", n);
  }
  template <class... T>
  void sections(const char* n, const T&...) {
    add("section[]", n);
  }
  template <class T>
  void skeleton(const char* n, const T&) {
    add("skeleton", n);
  }
};

void expect_documented(const char* record, const FieldSpelling& spelling) {
  const auto rows = mcusplit::testing::markdown_table(kDoc, std::string("**") + record + "**");
  ASSERT_EQ(rows.size(), spelling.fields.size())
      << "one row per field of **" << record << "** in " << kDoc;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_GE(rows[i].size(), 2u);
    EXPECT_EQ(rows[i][0], spelling.fields[i].type) << record << " " << spelling.fields[i].name;
    EXPECT_EQ(rows[i][1], spelling.fields[i].name) << record;
  }
}

template <class... T>
void expect_documented(const char* record) {
  FieldSpelling spelling;
  std::tuple<T...> value;
  std::apply([&](auto&... parts) { visit_fields(parts..., spelling); }, value);
  expect_documented(record, spelling);
}

TEST(PlanFormatDocs, HeaderTableMatchesItsFieldList) {
  FieldSpelling spelling;
  const PlanHeader h;
  visit_header(h, spelling);
  const auto rows = mcusplit::testing::markdown_table(
      kDoc, "## Header (" + std::to_string(kPlanHeaderBytes) + " bytes)");
  ASSERT_EQ(rows.size(), spelling.fields.size());
  size_t offset = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Field& f = spelling.fields[i];
    ASSERT_GE(rows[i].size(), 3u);
    EXPECT_EQ(rows[i][0], std::to_string(offset)) << f.name;
    EXPECT_EQ(rows[i][1], std::to_string(f.bytes)) << f.name;
    EXPECT_EQ(rows[i][2], f.name);
    offset += f.bytes;
  }
  EXPECT_EQ(offset, kPlanHeaderBytes);
}

TEST(PlanFormatDocs, RecordTablesMatchTheirFieldLists) {
  FieldSpelling payload;
  const Plan plan;
  const quant::QGraph graph;
  const std::vector<std::vector<LayerConstants>> constants;
  visit_payload(plan, graph, constants, payload);
  expect_documented("payload", payload);
  expect_documented<ClusterSpec>("cluster");
  expect_documented<DeviceSpec>("device");
  expect_documented<CoordinatorSpec>("coordinator");
  expect_documented<LayerPlan>("layer_plan");
  expect_documented<ParticipantPlan, std::vector<LayerConstants>>("participant");
  expect_documented<PlanBuffer>("buffer");
  expect_documented<PlanOp>("op");
  expect_documented<WeightSlice, LayerConstants>("slice");
  expect_documented<ParticipantEstimate>("estimate");
  expect_documented<TimelineEvent>("event");
}

}  // namespace
}  // namespace mcusplit::plan
