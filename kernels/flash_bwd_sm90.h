// The wgmma backward main kernel's entry point (head dim 128 only), called by flash_bwd()
// between its delta/LSE preprocessing and its dQ conversion.
#pragma once
#include <cuda_runtime.h>

#include "attn_params.h"

namespace hcpsim::kernels::detail {
void flash_bwd_sm90_main(const BwdParams& p, int batch, bool causal, cudaStream_t stream);
}  // namespace hcpsim::kernels::detail
