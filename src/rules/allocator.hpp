// What PyTorch's caching allocator needs beyond the bytes a training step allocates at its peak.
// hcpsim's memory estimate counts the bytes allocated; the GPU runs out when the allocator's
// segments, which also hold freed blocks no request fits, reach its memory. One definition for the
// memory estimate (memory/estimate.cpp), its report, the run's warning and the sweep's recompute.
//
// Measured (calibrate/RESULTS.md, thirty-first run; calibrate/torch/probe_allocator.py
// --cap-search): a step of Megatron's memory layout (Llama-3.1-8B layers under full recompute as
// checkpointed_forward runs it, the LM head and an unfused cross entropy, an fp32 gradient buffer,
// Adam's fp32 states) on an H100 with PyTorch 2.11, the allocator capped and the least cap under
// which two steps run bisected to 256 MiB:
//   - default allocator: 2.2-7.1 GB over the allocated peak in 8 settings (2048-16384 tokens, no
//     recompute, uniform or block, 4 or 8 layers). It follows the size of the step's largest
//     tensor, not the total of its activations (4.4-4.7 GB at 8192 tokens whether or not it
//     recomputes, 11 GB of activations apart): 0.75-2.34x the largest allocation, median 1.09x.
//     A freed block serves only a request that fits in it and a segment partly in use is not
//     returned, so the largest request needs a hole of its size beside the holes the step leaves.
//   - PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True: 0.21-0.27 GB in 4 settings, within the
//     search's resolution: segments grow by mapping pages, so no hole must hold a whole tensor.
// Held out (thirty-second run, predicted before it ran, calibrate/results/h200-v48-allocator-heldout/;
// on an H200, whose allocator gives the same need as the H100's in the setting both ran): 11 more
// default settings (3072-32768 tokens, 6-10 layers, 1-4 micro batches, FlashAttention) needed
// 0.12-1.47x; 3 needed more than 1.09x (by 0.25-2.0 GB), 8 less, 4 of them far less (0.12-0.43x:
// one micro batch at 8192 tokens, 14336-32768 tokens under recompute). The need is the same on
// every repeat of a setting; it follows the sizes the step allocates in an order no rule of the
// largest tensor captures. Over all 19 settings the median is 1.05x and 7 needed more than 1.09x
// (one of them, 4.53-4.66 GB against 4.58, within the search's resolution of it). With expandable
// segments, 0.17-0.18 GB in 2 more. So the margin is a flag, not a prediction of
// the need: a fit with less headroom may run out, one with more is not promised to run.
#pragma once

namespace hcpsim::rules {

// The search's resolution, the most expandable segments needed in any setting, and the least
// (of 6 settings: 0.17, 0.18, 0.21, 0.22, 0.24, 0.27 GB).
inline constexpr double kExpandableSegmentsMarginBytes = 256.0 * 1024 * 1024;
inline constexpr double kExpandableSegmentsLowestMeasuredBytes = 0.17e9;
inline constexpr int kExpandableSegmentsSettingsMeasured = 6;

// The default allocator's need over the largest allocation: the measured spread over all 19
// settings, and the median of the first 8 (0.75, 1.03, 1.05, 1.07, 1.11, 1.12, 1.38, 2.34:
// (1.07 + 1.11) / 2), fixed before the held-out 11 (the median of all 19 is 1.05).
inline constexpr double kDefaultAllocatorLowPerLargest = 0.12;
inline constexpr double kDefaultAllocatorHighPerLargest = 2.34;
inline constexpr double kDefaultAllocatorMedianPerLargest = 1.09;
inline constexpr int kDefaultAllocatorSettingsMeasured = 19;

// The bytes beyond the allocated peak a step typically needs to run: with the default allocator
// the median need over its largest allocation, with expandable segments the search's resolution.
// 7 of the 19 measured steps needed more: a fit with less headroom than this may run out, one with
// more is not promised to run.
inline double allocator_margin_bytes(double largest_allocation_bytes, bool expandable_segments) {
  return expandable_segments ? kExpandableSegmentsMarginBytes : kDefaultAllocatorMedianPerLargest * largest_allocation_bytes;
}

}  // namespace hcpsim::rules
