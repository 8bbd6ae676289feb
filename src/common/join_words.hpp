// A list in words, for messages: "a", "a or b", "a, b, or c", "use CP 2, or use p2p or all_gather".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hcpsim {

// `items` joined with commas and `conjunction` ("or", "and") before the last; the serial comma
// where there are three or more, since the items are often phrases with commas of their own, and
// a comma between two items where one has a comma or the conjunction of its own, and semicolons
// between three or more where one has a comma of its own.
std::string join_words(const std::vector<std::string>& items, std::string_view conjunction);

}  // namespace hcpsim
