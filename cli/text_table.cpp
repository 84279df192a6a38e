#include "cli/text_table.hpp"

#include <algorithm>
#include <stdexcept>

namespace volley::cli {

namespace {

constexpr const char* ellipsis = "...";
constexpr size_t ellipsis_width = 3;
constexpr const char* column_gap = "  ";

bool continues_character(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

bool is_control(char byte) {
  const auto value = static_cast<unsigned char>(byte);
  return value < 0x20 || value == 0x7f;
}

// The bytes of the first `width` characters of `text`.
size_t prefix_bytes(const std::string& text, size_t width) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (continues_character(text[i]))
      continue;
    if (seen == width)
      return i;
    ++seen;
  }
  return text.size();
}

std::string prepare_cell(std::string cell, size_t max_width) {
  std::replace_if(cell.begin(), cell.end(), is_control, ' ');
  if (max_width == 0 || display_width(cell) <= max_width)
    return cell;
  if (max_width <= ellipsis_width)
    return cell.substr(0, prefix_bytes(cell, max_width));
  cell.resize(prefix_bytes(cell, max_width - ellipsis_width));
  return cell + ellipsis;
}

void append_padded(std::string& out, const std::string& cell, size_t width, text_table::align how,
                   bool last) {
  const size_t padding = width - display_width(cell);
  if (how == text_table::align::right)
    out.append(padding, ' ');
  out += cell;
  if (how == text_table::align::left && !last)
    out.append(padding, ' ');
}

} // namespace

size_t display_width(const std::string& text) {
  return static_cast<size_t>(
    std::count_if(text.begin(), text.end(), [](char byte) { return !continues_character(byte); }));
}

text_table::text_table(std::vector<column> columns) : columns_(std::move(columns)) {}

void text_table::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size())
    throw std::invalid_argument("table row has " + std::to_string(cells.size()) + " cells for " +
                                std::to_string(columns_.size()) + " columns");
  for (size_t i = 0; i < cells.size(); ++i)
    cells[i] = prepare_cell(std::move(cells[i]), columns_[i].max_width);
  rows_.push_back(std::move(cells));
}

std::string text_table::render() const {
  std::vector<size_t> widths;
  for (const auto& entry : columns_)
    widths.push_back(display_width(entry.title));
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));

  std::string out;
  auto append_line = [&](auto cell_at) {
    const size_t start = out.size();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0)
        out += column_gap;
      append_padded(out, cell_at(i), widths[i], columns_[i].alignment, i + 1 == columns_.size());
    }
    // A right-aligned or empty last cell can still leave spaces behind.
    const size_t end = out.find_last_not_of(' ');
    out.resize(end == std::string::npos || end < start ? start : end + 1);
    out += '\n';
  };
  append_line([&](size_t i) -> const std::string& { return columns_[i].title; });
  for (const auto& row : rows_)
    append_line([&](size_t i) -> const std::string& { return row[i]; });
  return out;
}

} // namespace volley::cli
