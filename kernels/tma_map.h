// Host-side TMA tensor maps for the warp-specialized wgmma kernels, built through the driver
// entry point the runtime exposes (no libcuda link dependency).
#pragma once
#include <cstdint>
#include <string>

#include <cuda.h>
#include <cudaTypedefs.h>

#include "attn_params.h"

namespace hcpsim::kernels::detail {

inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    HCPSIM_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found));
    if (fn == nullptr || found != cudaDriverEntryPointSuccess) {
      throw CudaError(cudaErrorNotSupported, "cuTensorMapEncodeTiled is not available from the driver");
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }();
  return encode;
}

inline void check_encode(CUresult r) {
  if (r != CUDA_SUCCESS) {
    throw CudaError(cudaErrorInvalidValue, "cuTensorMapEncodeTiled failed with CUresult " + std::to_string(r));
  }
}

// 4-D map (head_dim 128, seq, heads, batch) over a bf16 bshd view, boxes of 64 columns x
// box_rows rows (one 64-column half of a tile) in the 128-byte swizzle; rows past `rows` read 0.
inline CUtensorMap make_bshd_map(const void* ptr, const Strides& st, int rows, int heads, int batch, int box_rows) {
  constexpr int64_t kBf16 = 2;
  // A stride of a size-1 dimension is never used; TMA still wants a non-zero multiple of 16.
  const int64_t head_bytes = heads > 1 ? st.head * kBf16 : 256;
  const int64_t batch_bytes = batch > 1 ? st.batch * kBf16 : 256;
  const cuuint64_t dims[4] = {128, static_cast<cuuint64_t>(rows), static_cast<cuuint64_t>(heads),
                              static_cast<cuuint64_t>(batch)};
  const cuuint64_t strides[3] = {static_cast<cuuint64_t>(st.row * kBf16), static_cast<cuuint64_t>(head_bytes),
                                 static_cast<cuuint64_t>(batch_bytes)};
  const cuuint32_t box[4] = {64, static_cast<cuuint32_t>(box_rows), 1, 1};
  const cuuint32_t elem_strides[4] = {1, 1, 1, 1};
  CUtensorMap map;
  check_encode(tensor_map_encoder()(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, const_cast<void*>(ptr), dims, strides,
                                    box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                    CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
  return map;
}

// 2-D map over an fp32 [rows_total][row_stride] array (cols valid per row), boxes of box_cols x 1.
inline CUtensorMap make_f32_rows_map(const float* ptr, int cols, int64_t rows_total, int64_t row_stride, int box_cols) {
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(cols), static_cast<cuuint64_t>(rows_total)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(row_stride * 4)};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(box_cols), 1};
  const cuuint32_t elem_strides[2] = {1, 1};
  CUtensorMap map;
  check_encode(tensor_map_encoder()(&map, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 2, const_cast<float*>(ptr), dims, strides,
                                    box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE,
                                    CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
  return map;
}

}  // namespace hcpsim::kernels::detail
