// Layout kernels around the a2a (Ulysses) exchange (docs/cp-transports.md §1, §4). One kernel
// moves 16-byte row segments between a bshd view and the [N][b][L][h/N][d] exchange buffer;
// the four entry points differ only in direction and in which side is the `local` or `full`
// view. Sequence chunk mapping: local row t of rank r is chunk t / c of the rank, which is
// sequence chunk r (t < c) or 2N-1-r (t >= c) of the natural order (DualChunkSwap).
#include <stdexcept>
#include <cuda_bf16.h>

#include "cp_ops.h"

namespace hcpsim::kernels {
namespace {

enum class Dir { kViewToBuffer, kBufferToView };

// For buffer element [j][b][t][hh][:], the bshd view position it corresponds to:
//   kByHeads (local view):   row t, head j*h/N + hh
//   kBySeq   (full view):    row of chunk (t < c ? j : 2N-1-j), offset t % c; head hh
template <Dir kDir, bool kBySeq>
__global__ void a2a_copy_kernel(const BshdView view, __nv_bfloat16* buffer, int batch, int local_rows, int heads,
                                int head_dim, int ranks) {
  const int heads_per_rank = heads / ranks;
  const int vec = head_dim / 8;
  const int c = local_rows / 2;
  const int64_t total = static_cast<int64_t>(ranks) * batch * local_rows * heads_per_rank * vec;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = idx;
    const int v = static_cast<int>(rest % vec);
    rest /= vec;
    const int hh = static_cast<int>(rest % heads_per_rank);
    rest /= heads_per_rank;
    const int t = static_cast<int>(rest % local_rows);
    rest /= local_rows;
    const int b = static_cast<int>(rest % batch);
    const int j = static_cast<int>(rest / batch);
    int64_t row, head;
    if constexpr (kBySeq) {
      const int chunk = t < c ? j : 2 * ranks - 1 - j;
      row = static_cast<int64_t>(chunk) * c + t % c;
      head = hh;
    } else {
      row = t;
      head = static_cast<int64_t>(j) * heads_per_rank + hh;
    }
    auto* vp = reinterpret_cast<uint4*>(static_cast<__nv_bfloat16*>(view.ptr) + b * view.batch_stride +
                                        row * view.row_stride + head * view.head_stride) + v;
    auto* bp = reinterpret_cast<uint4*>(buffer) + idx;
    if constexpr (kDir == Dir::kViewToBuffer) {
      *bp = *vp;
    } else {
      *vp = *bp;
    }
  }
}

template <Dir kDir, bool kBySeq>
void launch(const A2aArgs& a, const BshdView& view, cudaStream_t stream) {
  if (view.ptr == nullptr || a.buffer == nullptr || a.batch < 1 || a.ranks < 1 || a.heads % a.ranks != 0 ||
      a.local_rows % 2 != 0 || a.head_dim % 8 != 0 || a.head_dim < 8) {
    throw std::invalid_argument("a2a pack: need heads % N == 0, even local rows, head_dim a multiple of 8");
  }
  const int64_t vectors = static_cast<int64_t>(a.batch) * a.local_rows * a.heads * a.head_dim / 8;
  if (vectors == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((vectors + 255) / 256, 16384));
  a2a_copy_kernel<kDir, kBySeq><<<blocks, 256, 0, stream>>>(view, static_cast<__nv_bfloat16*>(a.buffer), a.batch,
                                                            a.local_rows, a.heads, a.head_dim, a.ranks);
  HCPSIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

void a2a_pack_seq_to_heads(const A2aArgs& a, cudaStream_t stream) {
  launch<Dir::kViewToBuffer, false>(a, a.local, stream);
}
void a2a_unpack_seq_to_heads(const A2aArgs& a, cudaStream_t stream) {
  launch<Dir::kBufferToView, true>(a, a.full, stream);
}
void a2a_pack_heads_to_seq(const A2aArgs& a, cudaStream_t stream) {
  launch<Dir::kViewToBuffer, true>(a, a.full, stream);
}
void a2a_unpack_heads_to_seq(const A2aArgs& a, cudaStream_t stream) {
  launch<Dir::kBufferToView, false>(a, a.local, stream);
}

}  // namespace hcpsim::kernels
