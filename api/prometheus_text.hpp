#pragma once
// A writer for the Prometheus text exposition format 0.0.4 (what /metrics
// serves and `promtool check metrics` accepts). Plain logic, no I/O.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

using prometheus_labels = std::vector<std::pair<std::string, std::string>>;

struct prometheus_histogram {
  std::vector<double> upper_bounds; // strictly ascending, finite; +Inf is implied
  std::vector<uint64_t> counts;     // per bucket, not cumulative: one per bound, then +Inf's
  double sum = 0;
};

// Samples of one family may be added in any order among other families';
// each family is written once, HELP and TYPE first, in the order families
// were first named. Misuse (a bad name, a name reused with another type or
// help, the same series twice) throws std::invalid_argument: it is a bug in
// the caller, and a scraper would reject or misread the output.
class prometheus_text {
public:
  static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

  // Counter names end in "_total"; it is appended when missing.
  void counter(std::string_view name, std::string_view help, double value,
               const prometheus_labels& labels = {});
  void gauge(std::string_view name, std::string_view help, double value,
             const prometheus_labels& labels = {});
  // Writes name_bucket{le=...} (cumulative, +Inf last), name_sum, name_count.
  void histogram(std::string_view name, std::string_view help, const prometheus_histogram& value,
                 const prometheus_labels& labels = {});

  std::string str() const;

private:
  enum class metric_type { counter, gauge, histogram };
  struct family {
    std::string name;
    metric_type type;
    std::string help;
    std::string samples;          // rendered lines
    std::set<std::string> series; // rendered label sets, to refuse duplicates
  };

  // Checks everything first, so a refused call leaves no trace.
  family& claim_series(const std::string& name, metric_type type, std::string_view help,
                       const prometheus_labels& labels);
  family& family_for(const std::string& name, metric_type type, std::string_view help);
  // The labels checked and in a canonical order, to recognise a series.
  static std::string series_key(const std::string& name, metric_type type, const prometheus_labels& labels);

  std::vector<family> families_;
  std::map<std::string, size_t> index_; // family name -> families_
  std::set<std::string> sample_names_;  // every name a sample line may carry
};

} // namespace volley
