// The virtual transport: all R CP ranks in this process on the current GPU. Every group
// operation is a set of device-to-device copies on one copy stream (the reduce-scatter a
// small summing kernel there), so K/V move between per-rank buffers while the ranks'
// attention kernels run on one compute stream, as TE overlaps its NCCL transfers.
#include <cuda_bf16.h>

#include <stdexcept>
#include <string>

#include "cp_transport.h"
#include "cuda_check.h"

namespace hcpcal {

namespace {

constexpr int kMaxMembers = 64;

struct RsSources {
  const __nv_bfloat16* p[kMaxMembers];
};

// out[e] = bf16(sum over j of src[j][e]) in fp32.
__global__ void sum_bf16_kernel(RsSources src, int n, __nv_bfloat16* out, size_t elems) {
  for (size_t e = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; e < elems;
       e += static_cast<size_t>(gridDim.x) * blockDim.x) {
    float acc = 0.f;
    for (int j = 0; j < n; ++j) acc += __bfloat162float(src.p[j][e]);
    out[e] = __float2bfloat16(acc);
  }
}

class VirtualTransport final : public CpTransport {
 public:
  explicit VirtualTransport(int ranks) : ranks_(ranks) {
    if (ranks < 1 || ranks > kMaxMembers) throw std::invalid_argument("virtual transport: 1..64 ranks");
    HCPSIM_CUDA_CHECK(cudaGetDevice(&device_));
    HCPSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking));
    HCPSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking));
    create_pools();
  }
  ~VirtualTransport() override {
    cudaStreamSynchronize(compute_);
    cudaStreamSynchronize(copy_);
    cudaStreamDestroy(compute_);
    cudaStreamDestroy(copy_);
  }
  int world() const override { return ranks_; }
  std::vector<int> local_ranks() const override {
    std::vector<int> r(ranks_);
    for (int i = 0; i < ranks_; ++i) r[i] = i;
    return r;
  }
  int device_of(int) const override { return device_; }
  const char* launch() const override { return "virtual"; }
  cudaStream_t compute_stream(int) override { return compute_; }
  cudaStream_t side_stream(int) override { return compute_; }
  cudaStream_t comm_stream(int) override { return copy_; }
  bool exchanges_per_rank() const override { return true; }

  void send_recv(const CpGroup& ring, int shift, const std::vector<const void*>& send,
                 const std::vector<void*>& recv, size_t bytes) override {
    const int n = ring.size();
    for (int i = 0; i < n; ++i)
      if (recv[i]) copy(recv[i], send[((i - shift) % n + n) % n], bytes);
  }
  void all_gather(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                  size_t bytes_per_rank) override {
    for (int i = 0; i < g.size(); ++i)
      for (int j = 0; j < g.size(); ++j) copy(static_cast<char*>(recv[i]) + j * bytes_per_rank, send[j], bytes_per_rank);
  }
  void all_to_all(const CpGroup& g, const std::vector<const void*>& send, const std::vector<void*>& recv,
                  size_t bytes_per_peer) override {
    for (int i = 0; i < g.size(); ++i)
      for (int j = 0; j < g.size(); ++j)
        copy(static_cast<char*>(recv[i]) + j * bytes_per_peer, static_cast<const char*>(send[j]) + i * bytes_per_peer,
             bytes_per_peer);
  }
  void reduce_scatter_bf16_sum(const CpGroup& g, const std::vector<const void*>& send,
                               const std::vector<void*>& recv, size_t elems_per_rank) override {
    const int n = g.size();
    for (int i = 0; i < n; ++i) {
      RsSources src{};
      for (int j = 0; j < n; ++j) src.p[j] = static_cast<const __nv_bfloat16*>(send[j]) + i * elems_per_rank;
      const int blocks = static_cast<int>(std::min<size_t>((elems_per_rank + 255) / 256, 4096));
      sum_bf16_kernel<<<blocks, 256, 0, copy_>>>(src, n, static_cast<__nv_bfloat16*>(recv[i]), elems_per_rank);
      HCPSIM_CUDA_CHECK_LAUNCH();
    }
  }

 private:
  void copy(void* dst, const void* src, size_t bytes) {
    if (dst == src || bytes == 0) return;
    HCPSIM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, copy_));
  }
  int ranks_, device_ = 0;
  cudaStream_t compute_{}, copy_{};
};

}  // namespace

std::unique_ptr<CpTransport> make_virtual_transport(int ranks) { return std::make_unique<VirtualTransport>(ranks); }

}  // namespace hcpcal
