#include "common/join_words.hpp"

#include <algorithm>

namespace hcpsim {

std::string join_words(const std::vector<std::string>& items, std::string_view conjunction) {
  const std::string inner = " " + std::string(conjunction) + " ";
  // Two phrases of their own lists ("use p2p or all_gather") keep a comma between them too.
  const bool phrases = std::any_of(items.begin(), items.end(), [&](const std::string& item) {
    return item.find(',') != std::string::npos || item.find(inner) != std::string::npos;
  });
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += items.size() > 2 || phrases ? ", " : " ";
    if (i > 0 && i + 1 == items.size()) (s += conjunction) += ' ';
    s += items[i];
  }
  return s;
}

}  // namespace hcpsim
