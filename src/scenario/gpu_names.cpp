#include "scenario/gpu_names.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace hcpsim {

namespace {

// The words of a name, upper-cased: split at spaces, dashes and underscores.
std::vector<std::string> words_of(const std::string& name) {
  std::vector<std::string> out(1);
  for (char ch : name) {
    if (ch == ' ' || ch == '-' || ch == '_') {
      if (!out.back().empty()) out.emplace_back();
    } else {
      out.back() += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

// Words naming a GPU model: letters then digits (H200, GB200, A100, L40S), not sizes (141GB).
std::vector<std::string> model_tokens(const std::string& name) {
  std::vector<std::string> out;
  for (const std::string& t : words_of(name)) {
    const bool has_digit = std::any_of(t.begin(), t.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
    const bool starts_alpha = std::isalpha(static_cast<unsigned char>(t.front()));
    const bool size = t.size() > 2 && t.compare(t.size() - 2, 2, "GB") == 0 && std::isdigit(static_cast<unsigned char>(t.front()));
    if (has_digit && starts_alpha && !size) out.push_back(t);
  }
  return out;
}

}  // namespace

bool gpu_model_matches(const std::string& reported, const GpuSpec& gpu) {
  const std::vector<std::string> mine = model_tokens(gpu.name);
  for (const std::string& t : model_tokens(reported))
    if (std::find(mine.begin(), mine.end(), t) != mine.end()) return true;
  return false;
}


std::optional<std::string> other_vendor_word(const std::string& name) {
  static const char* const kVendorWords[] = {"AMD", "INSTINCT", "RADEON", "INTEL", "GAUDI", "TPU", "TRAINIUM",
                                             "INFERENTIA", "MAIA", "MTIA", "ASCEND"};
  for (const std::string& w : words_of(name)) {
    for (const char* v : kVendorWords)
      if (w == v) return w;
    // AMD's Instinct models: MI followed by digits (MI250X, MI300X, MI325X, MI355X).
    if (w.size() > 2 && w.compare(0, 2, "MI") == 0 && std::isdigit(static_cast<unsigned char>(w[2]))) return w;
  }
  return std::nullopt;
}

}  // namespace hcpsim
