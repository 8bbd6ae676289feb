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
  const auto i = static_cast<double>(nvls_iterations(bytes, channels, heads));
  return (i + static_cast<double>(kNvlsPipelineStages - 1)) / i;
}

}  // namespace hcpsim
