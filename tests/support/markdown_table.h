// The rows of a markdown table in a doc, for tests that compare documented
// field lists with the code's.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace mcusplit::testing {

// The trimmed cells of "| a | b |".
inline std::vector<std::string> markdown_cells(const std::string& line) {
  std::vector<std::string> cells;
  size_t at = line.find('|');
  while (at != std::string::npos) {
    const size_t next = line.find('|', at + 1);
    if (next == std::string::npos) break;
    std::string cell = line.substr(at + 1, next - at - 1);
    const size_t first = cell.find_first_not_of(' ');
    const size_t last = cell.find_last_not_of(' ');
    cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    at = next;
  }
  return cells;
}

// The body rows of the first table at or after the first line of `path`
// that starts with `marker` (its header row and separator left out); empty
// if there is no such line or table.
inline std::vector<std::vector<std::string>> markdown_table(const std::string& path,
                                                            const std::string& marker) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool found = false;
  while (!found && std::getline(in, line)) found = line.rfind(marker, 0) == 0;
  while (found && line.rfind("|", 0) != 0 && std::getline(in, line)) {
  }
  if (!found || line.rfind("|", 0) != 0) return rows;
  std::getline(in, line);  // the separator
  while (std::getline(in, line) && line.rfind("|", 0) == 0) rows.push_back(markdown_cells(line));
  return rows;
}

}  // namespace mcusplit::testing
