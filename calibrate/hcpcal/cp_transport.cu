// CpTransport's shared part: the per-rank memory pools (see cp_transport.h).
#include "cp_transport.h"

#include <cstdint>
#include <stdexcept>

#include "cuda_check.h"

namespace hcpcal {

int CpGroup::index_of(int rank) const {
  for (int i = 0; i < size(); ++i)
    if (ranks[i] == rank) return i;
  return -1;
}

CpTransport::~CpTransport() {
  for (auto& [rank, pool] : pools_) cudaMemPoolDestroy(pool);
}

void CpTransport::use(int rank) const { HCPSIM_CUDA_CHECK(cudaSetDevice(device_of(rank))); }

void CpTransport::create_pools() {
  for (int r : local_ranks()) {
    cudaMemPoolProps props{};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = device_of(r);
    cudaMemPool_t pool{};
    HCPSIM_CUDA_CHECK(cudaMemPoolCreate(&pool, &props));
    uint64_t keep = UINT64_MAX;  // never hand freed memory back: timed passes do not pay for it
    HCPSIM_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    pools_[r] = pool;
  }
  // The pool's rounding: what one byte occupies in "used" memory.
  const int r = local_ranks().front();
  use(r);
  cudaStream_t s = compute_stream(r);
  void* p = alloc(r, 1, s);
  granularity_bytes_ = used_bytes(r);
  free(r, p, s);
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
}

void* CpTransport::alloc(int rank, size_t bytes, cudaStream_t stream) {
  void* p = nullptr;
  HCPSIM_CUDA_CHECK(cudaMallocFromPoolAsync(&p, bytes, pools_.at(rank), stream));
  return p;
}

void CpTransport::free(int rank, void* ptr, cudaStream_t stream) {
  (void)rank;
  if (ptr) HCPSIM_CUDA_CHECK(cudaFreeAsync(ptr, stream));
}

size_t CpTransport::peak_bytes(int rank) const {
  uint64_t v = 0;
  HCPSIM_CUDA_CHECK(cudaMemPoolGetAttribute(pools_.at(rank), cudaMemPoolAttrUsedMemHigh, &v));
  return static_cast<size_t>(v);
}

size_t CpTransport::used_bytes(int rank) const {
  uint64_t v = 0;
  HCPSIM_CUDA_CHECK(cudaMemPoolGetAttribute(pools_.at(rank), cudaMemPoolAttrUsedMemCurrent, &v));
  return static_cast<size_t>(v);
}

void CpTransport::reset_peak(int rank) {
  uint64_t zero = 0;  // resets the high-water mark to the current use
  HCPSIM_CUDA_CHECK(cudaMemPoolSetAttribute(pools_.at(rank), cudaMemPoolAttrUsedMemHigh, &zero));
}

}  // namespace hcpcal
