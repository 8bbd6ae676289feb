// The largest value each model shape key may take: one rule for a scenario's model section and for
// a Hugging Face config.json's keys that stand for them (and the documents a packing may list). Beyond these a shape is no model anyone
// trains, and the arithmetic downstream (bytes, FLOPs, the step's buckets) leaves its range.
#pragma once

#include <cstdint>

namespace hcpsim::model_limits {

inline constexpr int64_t kMaxCount = int64_t{1} << 20;        // sizes, heads, layers, nodes
inline constexpr int64_t kMaxLayers = 100000;                 // num_layers (num_hidden_layers)
inline constexpr int64_t kMaxHiddenSize = kMaxCount;          // hidden_size
inline constexpr int64_t kMaxFfnHiddenSize = 4 * kMaxCount;   // ffn_hidden_size (intermediate_size)
inline constexpr int64_t kMaxHeads = 65536;                   // num_attention_heads, num_query_groups
inline constexpr int64_t kMaxHeadDim = 65536;                 // kv_channels (head_dim)
inline constexpr int64_t kMaxVocabSize = 16 * kMaxCount;      // vocab_size
inline constexpr int64_t kMaxSlidingWindow = int64_t{1} << 40;  // sliding_window, in tokens
inline constexpr int64_t kMaxDocuments = 16384;  // training.document_lengths: a varlen launch lists its units per document (x micro batch)

}  // namespace hcpsim::model_limits
