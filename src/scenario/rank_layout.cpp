#include "scenario/rank_layout.hpp"

#include <cassert>

namespace hcpsim {

RankCoord RankLayout::coord_of(int64_t rank) const {
  assert(rank >= 0 && rank < world_size());
  RankCoord c;
  c.tp = rank % tp;
  rank /= tp;
  c.cp = rank % cp;
  rank /= cp;
  c.dp = rank % dp;
  c.pp = rank / dp;
  return c;
}

namespace {

// The ranks that share every coordinate of `rank` except `axis`, by increasing `axis`.
std::vector<int64_t> group_along(const RankLayout& layout, int64_t rank, int64_t RankCoord::*axis, int64_t size) {
  RankCoord c = layout.coord_of(rank);
  std::vector<int64_t> g;
  for (c.*axis = 0; c.*axis < size; ++(c.*axis)) g.push_back(layout.rank_of(c));
  return g;
}

}  // namespace

std::vector<int64_t> RankLayout::tp_group(int64_t rank) const { return group_along(*this, rank, &RankCoord::tp, tp); }
std::vector<int64_t> RankLayout::cp_group(int64_t rank) const { return group_along(*this, rank, &RankCoord::cp, cp); }
std::vector<int64_t> RankLayout::dp_group(int64_t rank) const { return group_along(*this, rank, &RankCoord::dp, dp); }

std::vector<int64_t> RankLayout::pp_group(int64_t rank) const { return group_along(*this, rank, &RankCoord::pp, pp); }

std::vector<int64_t> RankLayout::dp_cp_group(int64_t rank) const {
  RankCoord c = coord_of(rank);
  std::vector<int64_t> g;
  for (c.dp = 0; c.dp < dp; ++c.dp)
    for (c.cp = 0; c.cp < cp; ++c.cp) g.push_back(rank_of(c));  // ascending global rank
  return g;
}

std::vector<int64_t> RankLayout::hcp_a2a_group(int64_t rank, int64_t a2a_size) const {
  assert(a2a_size > 0 && cp % a2a_size == 0);
  RankCoord c = coord_of(rank);
  const int64_t outer = c.cp / a2a_size;
  std::vector<int64_t> g;
  for (int64_t j = 0; j < a2a_size; ++j) {
    c.cp = outer * a2a_size + j;
    g.push_back(rank_of(c));
  }
  return g;
}

std::vector<int64_t> RankLayout::hcp_p2p_group(int64_t rank, int64_t a2a_size) const {
  assert(a2a_size > 0 && cp % a2a_size == 0);
  RankCoord c = coord_of(rank);
  const int64_t inner = c.cp % a2a_size;
  std::vector<int64_t> g;
  for (int64_t p = 0; p < cp / a2a_size; ++p) {
    c.cp = p * a2a_size + inner;
    g.push_back(rank_of(c));
  }
  return g;
}

RankLayout rank_layout_of(const ParallelSpec& p) {
  return RankLayout{.tp = p.tensor_model_parallel_size,
                    .cp = p.context_parallel_size,
                    .dp = p.data_parallel_size,
                    .pp = p.pipeline_model_parallel_size};
}

}  // namespace hcpsim
