#pragma once
// A table for the terminal: a title line and one line per row, columns
// aligned, long cells cut so one wide value cannot push the rest off screen.

#include <cstddef>
#include <string>
#include <vector>

namespace volley::cli {

class text_table {
public:
  enum class align { left, right };

  struct column {
    std::string title;
    align alignment = align::left;
    size_t max_width = 0; // longer cells are cut and end in "..."; 0: never cut
  };

  explicit text_table(std::vector<column> columns);

  // Throws std::invalid_argument unless there is one cell per column.
  // Control characters in cells are shown as spaces: a row stays one line
  // and a hostile event type cannot send escape sequences to the terminal.
  void add_row(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }

  // Columns two spaces apart, no trailing spaces, every line ends in '\n'.
  std::string render() const;

private:
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Width on the terminal, counted in UTF-8 characters (not bytes).
size_t display_width(const std::string& text);

} // namespace volley::cli
