#include "common/join_words.hpp"

#include <algorithm>

namespace hcpsim {

std::string join_words(const std::vector<std::string>& items, std::string_view conjunction) {
  const std::string inner = " " + std::string(conjunction) + " ";
  // Two phrases of their own lists ("use p2p or all_gather") keep a comma between them too.
  const bool phrases = std::any_of(items.begin(), items.end(), [&](const std::string& item) {
    return item.find(',') != std::string::npos || item.find(inner) != std::string::npos;
  });
  // Three or more where one has a comma of its own: semicolons between them ("raise TP, CP or PP;
  // use GPUs with more memory; or add recompute"; an option named "B200, 16 nodes" in a list of
  // options), or the items' commas would read as the list's.
  const bool semicolons = items.size() > 2 && std::any_of(items.begin(), items.end(), [](const std::string& item) {
                            return item.find(',') != std::string::npos;
                          });
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += semicolons ? "; " : items.size() > 2 || phrases ? ", " : " ";
    if (i > 0 && i + 1 == items.size()) (s += conjunction) += ' ';
    s += items[i];
  }
  return s;
}

}  // namespace hcpsim
