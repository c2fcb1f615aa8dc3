// The documented field lists (docs/mq_format.md, which docs/device_image.md
// and docs/plan_format.md refer to; their own records: ImageRecordDocs.*,
// PlanFormatDocs.*) must be the code's: every op params row
// and the concat block are compared with the field lists of
// kernels/op_params.h, name by name and type by type.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kernels/op_registry.h"
#include "support/markdown_table.h"

namespace mcusplit::kernels {
namespace {

// "type name, type name, ..." in the doc's vocabulary.
struct FieldSpelling {
  std::string text;
  void add(const char* type, const char* name) {
    if (!text.empty()) text += ", ";
    text += std::string(type) + " " + name;
  }
  template <class T>
  void i32(const char* n, T&) {
    add("i32", n);
  }
  template <class T>
  void flag(const char* n, T&) {
    add("flag", n);
  }
  template <class T>
  void shape(const char* n, T&) {
    add("shape", n);
  }
  template <class T>
  void activation(const char* n, T&) {
    add("act", n);
  }
};

// Rows "| key | value |" of the markdown table whose header is `header`.
std::map<std::string, std::string> table(const std::string& path, const std::string& header) {
  std::map<std::string, std::string> rows;
  for (const auto& cells : mcusplit::testing::markdown_table(path, header)) {
    EXPECT_EQ(cells.size(), 2u) << path << ": a row of " << header;
    if (cells.size() == 2) rows[cells[0]] = cells[1];
  }
  return rows;
}

const std::string kMqDoc = std::string(MCUSPLIT_SOURCE_DIR) + "/docs/mq_format.md";

TEST(FormatDocs, OpParamTablesMatchTheFieldLists) {
  const auto rows = table(kMqDoc, "| op | params |");
  ASSERT_EQ(rows.size(), kOpTypeCount) << "one row per operator";
  for (uint32_t i = 0; i < kOpTypeCount; ++i) {
    const auto op = static_cast<OpType>(i);
    const std::string name = op_type_name(op);
    ASSERT_TRUE(rows.count(name)) << name << " has no row in " << kMqDoc;
    FieldSpelling spelling;
    const OpParams params;
    visit_op_params(op, params, spelling);
    const std::string documented = rows.at(name);
    if (spelling.text.empty()) {
      EXPECT_EQ(documented.rfind("(none", 0), 0u) << name << ": " << documented;
    } else {
      // A row may end with a parenthesised remark.
      EXPECT_EQ(documented.substr(0, documented.find(" (")), spelling.text) << name;
    }
  }
}

TEST(FormatDocs, ConcatBlockMatchesItsFieldList) {
  const auto rows = table(kMqDoc, "| block | fields |");
  ASSERT_TRUE(rows.count("ConcatBlock"));
  FieldSpelling spelling;
  const Int8ConcatParams block;
  visit_fields(block, spelling);
  EXPECT_EQ(rows.at("ConcatBlock"), spelling.text);
}

}  // namespace
}  // namespace mcusplit::kernels
