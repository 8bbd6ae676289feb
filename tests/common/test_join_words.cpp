// join_words: the list in words every message uses. Expected strings written out by hand.
#include <catch2/catch.hpp>

#include "common/join_words.hpp"

using hcpsim::join_words;

TEST_CASE("join_words: none, one and two items take no commas", "[common]") {
  CHECK(join_words({}, "or") == "");
  CHECK(join_words({"p2p"}, "or") == "p2p");
  CHECK(join_words({"p2p", "a2a"}, "or") == "p2p or a2a");
  CHECK(join_words({"memory", "HBM bandwidth"}, "and") == "memory and HBM bandwidth");
}

TEST_CASE("join_words: two phrases with lists of their own keep a comma between them", "[common]") {
  CHECK(join_words({"lower TP to one of {1}", "use p2p or all_gather"}, "or") ==
        "lower TP to one of {1}, or use p2p or all_gather");
  CHECK(join_words({"use CP in {1, 2}", "lower TP"}, "or") == "use CP in {1, 2}, or lower TP");
  // Another conjunction inside an item is no list of this one's.
  CHECK(join_words({"fp8 and bf16 peaks", "memory"}, "or") == "fp8 and bf16 peaks or memory");
}

TEST_CASE("join_words: three or more take the serial comma", "[common]") {
  CHECK(join_words({"p2p", "all_gather", "a2a"}, "or") == "p2p, all_gather, or a2a");
  CHECK(join_words({"a", "b", "c", "d"}, "and") == "a, b, c, and d");
  // Items with commas of their own stay apart: semicolons between them (with commas, "B200, 16
  // nodes, GB200, and H200" reads as four options).
  CHECK(join_words({"raise TP, CP or PP", "use GPUs with more memory", "add recompute"}, "or") ==
        "raise TP, CP or PP; use GPUs with more memory; or add recompute");
  CHECK(join_words({"B200, 16 nodes", "GB200", "H200"}, "and") == "B200, 16 nodes; GB200; and H200");
}
