// How NCCL's NVLS all-reduce streams a buffer on one node, which its cost model (tuning.cc: a
// 25 us latency and a bandwidth) leaves out (docs/nccl.md §3, NVLS).
//
// Each of the call's CTAs (channels) takes 1/channels of the buffer and loops over it in
// iterations of heads x chunk bytes (enqueue.cc, calcCollChunking and the NVLS loop size), its
// warps split into three stages that pipeline the chunks: scatter (user buffer -> NVLS buffer),
// reduce (multimem load-reduce / store through the switch), gather (NVLS buffer -> user buffer)
// (device/all_reduce.h). The chunk starts at NCCL_NVLS_CHUNKSIZE (128 KiB) and shrinks for
// smaller buffers: to 64 KiB below 64 x heads x chunk bytes per channel, then to 32 KiB below
// 8 x heads x chunk, then to 16 KiB below 2 x heads x chunk. A pipeline of 3 stages over I
// iterations takes I + 2 stage times where bandwidth alone would take I: the call's bandwidth
// term stretches by (I + 2) / I (I the exact count: the last iteration may be partial). At 8 MiB on 8 GPUs (16 channels, 8 heads): 512 KiB per channel,
// 32 KiB chunks, I = 2, twice NCCL's bandwidth term; from 1 GiB (128 KiB chunks, I >= 64) < 3%.
#pragma once

#include <cstdint>

namespace hcpsim {

// The chunk NCCL's NVLS all-reduce uses for `per_channel_bytes` with `heads` NVLS heads.
int64_t nvls_chunk_bytes(double per_channel_bytes, int64_t heads);

// Loop iterations per channel (at least 1).
int64_t nvls_iterations(double bytes, int64_t channels, int64_t heads);

// (x + 2) / x with x the exact (fractional) iterations, 3 below one: what the three-stage pipeline
// makes of the bandwidth term (a partial last iteration takes its share of a stage time).
double nvls_pipeline_stretch(double bytes, int64_t channels, int64_t heads);

}  // namespace hcpsim
