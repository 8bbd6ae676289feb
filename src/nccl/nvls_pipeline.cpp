#include "nccl/nvls_pipeline.hpp"

#include <algorithm>
#include <cmath>

namespace hcpsim {

namespace {

constexpr int64_t kNvlsChunkBytes = 128 * 1024;  // NCCL_NVLS_CHUNKSIZE default (transport/nvls.cc)
constexpr int64_t kNvlsPipelineStages = 3;       // scatter, reduce, gather warps (device/all_reduce.h)

}  // namespace

int64_t nvls_chunk_bytes(double per_channel_bytes, int64_t heads) {
  const double ops = static_cast<double>(std::max<int64_t>(1, heads));  // concurrentOps with one channel
  int64_t chunk = kNvlsChunkBytes;
  if (per_channel_bytes < 64 * ops * static_cast<double>(chunk) && chunk > 65536) chunk = 65536;
  if (per_channel_bytes < 8 * ops * static_cast<double>(chunk) && chunk > 32768) chunk = 32768;
  if (per_channel_bytes < 2 * ops * static_cast<double>(chunk) && chunk > 16384) chunk = 16384;
  return chunk;
}

int64_t nvls_iterations(double bytes, int64_t channels, int64_t heads) {
  const double per_channel = bytes / static_cast<double>(std::max<int64_t>(1, channels));
  const double per_iteration = static_cast<double>(std::max<int64_t>(1, heads) * nvls_chunk_bytes(per_channel, heads));
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(per_channel / per_iteration)));
}

double nvls_pipeline_stretch(double bytes, int64_t channels, int64_t heads) {
  // Three stages over I - 1 full iterations of stage time t and a last one of f x t (0 < f <= 1):
  // the first stage ends at (I - 1 + f) t, the second at I t + f t, the third at (I + 1) t + f t,
  // that is (x + 2) t with x = I - 1 + f the iterations' exact count, where bandwidth alone takes
  // x t. Below one iteration (x < 1) each stage takes x t in turn: 3 x t. Counting the last,
  // partial iteration as a whole one made a byte more than a whole count faster.
  const double per_channel = bytes / static_cast<double>(std::max<int64_t>(1, channels));
  const double per_iteration = static_cast<double>(std::max<int64_t>(1, heads) * nvls_chunk_bytes(per_channel, heads));
  const double x = per_channel / per_iteration;
  const auto stages = static_cast<double>(kNvlsPipelineStages);
  return x < 1 ? stages : (x + stages - 1) / x;
}

}  // namespace hcpsim
