// The wgmma forward kernel's entry point (head dim 128 only), called by flash_fwd().
#pragma once
#include <cuda_runtime.h>

#include "attn_params.h"

namespace hcpsim::kernels::detail {
void flash_fwd_sm90(const FwdParams& p, int batch, bool causal, cudaStream_t stream);
}  // namespace hcpsim::kernels::detail
