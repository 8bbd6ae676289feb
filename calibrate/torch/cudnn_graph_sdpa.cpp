// cuDNN's fused attention through the cuDNN frontend's graph API, loaded by hcpcal_torch.py
// through ctypes. It exists for the masks PyTorch's SDPA cannot ask cuDNN for, above all the
// bottom-right causal mask Transformer Engine sets for its all_gather CP chunks (c queries
// against a gathered prefix of the keys: diagonal alignment BOTTOM_RIGHT, right bound 0; see
// docs/cost-model.md). Tensors, workspace and stream are PyTorch's; this file only builds the
// graphs (once per shape, cached in the caller's context) and executes them.
//
// Build (cudnn_graph.py does it on first use): g++ -O2 -std=c++17 -shared -fPIC
//   -fvisibility=hidden -fvisibility-inlines-hidden -Wl,-Bsymbolic
//   -Wl,--version-script=cudnn_graph_sdpa.map cudnn_graph_sdpa.cpp
//   -I<cudnn-frontend>/include -I<cuda>/include -l:libcudnn.so.9 -lcudart -lnvrtc
// Everything but the hcpcal_sdpa_* functions stays local: the process already holds PyTorch's
// libtorch_cuda, built with its own (older) copy of the same header-only frontend, and an
// exported inline function of ours would otherwise be bound to its namesake there.
#include <cudnn.h>
#include <cudnn_frontend.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace fe = cudnn_frontend;

extern "C" {

// Mirrored field by field by hcpcal_torch.py (class _Shape). Strides are in elements, for the
// [batch, heads, seq, head_dim] view of each tensor (TE's bshd buffers viewed that way).
struct HcpcalSdpaShape {
  int64_t batch, heads_q, heads_kv, sq, skv, head_dim;
  int64_t q_stride[4], k_stride[4], v_stride[4], o_stride[4];
  int64_t do_stride[4], dq_stride[4], dk_stride[4], dv_stride[4];  // backward only
  int32_t mask;           // 0 none, 1 causal top-left, 2 causal bottom-right
  int32_t backward;       // 0: forward with softmax stats (training); 1: backward
  int32_t implementation; // forward only: 0 COMPOSITE, 1 UNIFIED, 2 AUTO (the frontend picks)
  float scale;
};

}  // extern "C"

namespace {

enum Uid : int64_t { kQ = 1, kK, kV, kO, kStats, kDO, kDQ, kDK, kDV };

struct Context {
  cudnnHandle_t handle = nullptr;
  std::map<std::vector<int64_t>, std::shared_ptr<fe::graph::Graph>> graphs;
};

std::vector<int64_t> key_of(const HcpcalSdpaShape& s) {
  std::vector<int64_t> k = {s.batch, s.heads_q, s.heads_kv, s.sq, s.skv, s.head_dim, s.mask, s.backward,
                            s.implementation};
  for (const int64_t* st : {s.q_stride, s.k_stride, s.v_stride, s.o_stride}) k.insert(k.end(), st, st + 4);
  if (s.backward)
    for (const int64_t* st : {s.do_stride, s.dq_stride, s.dk_stride, s.dv_stride}) k.insert(k.end(), st, st + 4);
  int32_t scale_bits = 0;
  std::memcpy(&scale_bits, &s.scale, sizeof scale_bits);
  k.push_back(scale_bits);
  return k;
}

std::vector<int64_t> strides(const int64_t* st) { return {st[0], st[1], st[2], st[3]}; }

std::shared_ptr<fe::graph::Tensor_attributes> input(fe::graph::Graph& g, const char* name, int64_t uid,
                                                    std::vector<int64_t> dim, const int64_t* st) {
  return g.tensor(fe::graph::Tensor_attributes().set_name(name).set_uid(uid).set_dim(std::move(dim)).set_stride(
      strides(st)));
}

// The mask as Transformer Engine sets it: causal = right bound 0 on the aligned diagonal.
template <class Attributes>
void set_mask(Attributes& a, int32_t mask) {
  if (mask == 0) return;
  a.set_diagonal_alignment(mask == 2 ? fe::DiagonalAlignment_t::BOTTOM_RIGHT : fe::DiagonalAlignment_t::TOP_LEFT)
      .set_diagonal_band_right_bound(0);
}

std::shared_ptr<fe::graph::Graph> make_graph(const HcpcalSdpaShape& s) {
  auto g = std::make_shared<fe::graph::Graph>();
  g->set_io_data_type(fe::DataType_t::BFLOAT16)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  const int64_t b = s.batch, hq = s.heads_q, hk = s.heads_kv, d = s.head_dim;
  auto q = input(*g, "Q", kQ, {b, hq, s.sq, d}, s.q_stride);
  auto k = input(*g, "K", kK, {b, hk, s.skv, d}, s.k_stride);
  auto v = input(*g, "V", kV, {b, hk, s.skv, d}, s.v_stride);
  if (!s.backward) {
    auto a = fe::graph::SDPA_attributes().set_name("hcpcal_sdpa_fwd").set_generate_stats(true).set_attn_scale(s.scale);
    set_mask(a, s.mask);
    a.set_implementation(s.implementation == 0   ? fe::AttentionImplementation_t::COMPOSITE
                         : s.implementation == 1 ? fe::AttentionImplementation_t::UNIFIED
                                                 : fe::AttentionImplementation_t::AUTO);
    auto [o, stats] = g->sdpa(q, k, v, a);
    o->set_output(true).set_uid(kO).set_dim({b, hq, s.sq, d}).set_stride(strides(s.o_stride));
    stats->set_output(true).set_uid(kStats).set_data_type(fe::DataType_t::FLOAT);
  } else {
    auto o = input(*g, "O", kO, {b, hq, s.sq, d}, s.o_stride);
    auto dout = input(*g, "dO", kDO, {b, hq, s.sq, d}, s.do_stride);
    const int64_t stats_stride[4] = {hq * s.sq, s.sq, 1, 1};
    auto stats = input(*g, "Stats", kStats, {b, hq, s.sq, 1}, stats_stride);
    stats->set_data_type(fe::DataType_t::FLOAT);
    auto a = fe::graph::SDPA_backward_attributes().set_name("hcpcal_sdpa_bwd").set_attn_scale(s.scale);
    set_mask(a, s.mask);
    auto [dq, dk, dv] = g->sdpa_backward(q, k, v, o, dout, stats, a);
    dq->set_output(true).set_uid(kDQ).set_dim({b, hq, s.sq, d}).set_stride(strides(s.dq_stride));
    dk->set_output(true).set_uid(kDK).set_dim({b, hk, s.skv, d}).set_stride(strides(s.dk_stride));
    dv->set_output(true).set_uid(kDV).set_dim({b, hk, s.skv, d}).set_stride(strides(s.dv_stride));
  }
  return g;
}

int fail(char* err, int err_len, const std::string& what) {
  if (err && err_len > 0) std::snprintf(err, static_cast<size_t>(err_len), "%s", what.c_str());
  return 1;
}

}  // namespace

#define HCPCAL_EXPORT __attribute__((visibility("default")))

extern "C" {

// A context: one cuDNN handle and the graphs built so far. nullptr on failure (err says why).
HCPCAL_EXPORT void* hcpcal_sdpa_create(char* err, int err_len) {
  auto* c = new (std::nothrow) Context;
  if (!c) {
    fail(err, err_len, "out of host memory");
    return nullptr;
  }
  const cudnnStatus_t st = cudnnCreate(&c->handle);
  if (st != CUDNN_STATUS_SUCCESS) {
    fail(err, err_len, std::string("cudnnCreate: ") + cudnnGetErrorString(st));
    delete c;
    return nullptr;
  }
  return c;
}

HCPCAL_EXPORT void hcpcal_sdpa_destroy(void* ctx) {
  auto* c = static_cast<Context*>(ctx);
  if (!c) return;
  c->graphs.clear();
  cudnnDestroy(c->handle);
  delete c;
}

// cuDNN's runtime version (cudnnGetVersion) and the frontend's, as compiled in.
HCPCAL_EXPORT void hcpcal_sdpa_versions(int64_t* cudnn_runtime, int64_t* frontend) {
  *cudnn_runtime = static_cast<int64_t>(cudnnGetVersion());
  *frontend = CUDNN_FRONTEND_VERSION;
}

// Builds (once) the graph of `shape` and returns its workspace size in bytes; -1 on failure.
HCPCAL_EXPORT int64_t hcpcal_sdpa_prepare(void* ctx, const HcpcalSdpaShape* shape, char* err, int err_len) {
  // Nothing may throw across the C boundary (ctypes): every failure is a message and -1.
  try {
    auto* c = static_cast<Context*>(ctx);
    const auto key = key_of(*shape);
    auto it = c->graphs.find(key);
    if (it == c->graphs.end()) {
      std::shared_ptr<fe::graph::Graph> g = make_graph(*shape);
      auto st = g->build(c->handle, {fe::HeurMode_t::A});
      if (!st.is_good()) {
        fail(err, err_len, "cuDNN graph build: " + st.get_message());
        return -1;
      }
      it = c->graphs.emplace(key, std::move(g)).first;
    }
    int64_t workspace_bytes = 0;
    auto st = it->second->get_workspace_size(workspace_bytes);
    if (!st.is_good()) {
      fail(err, err_len, "workspace size: " + st.get_message());
      return -1;
    }
    return workspace_bytes;
  } catch (const std::exception& e) {
    fail(err, err_len, std::string("cuDNN graph: ") + e.what());
  } catch (...) {
    fail(err, err_len, "cuDNN graph: unknown exception");
  }
  return -1;
}

// Runs `shape`'s graph on `stream`. ptrs: forward q, k, v, o, stats; backward q, k, v, o, dO,
// stats, dq, dk, dv (device pointers). 0 on success.
HCPCAL_EXPORT int hcpcal_sdpa_run(void* ctx, const HcpcalSdpaShape* shape, void* const* ptrs, void* workspace,
                                  void* stream, char* err, int err_len) {
  try {
    auto* c = static_cast<Context*>(ctx);
    auto it = c->graphs.find(key_of(*shape));
    if (it == c->graphs.end()) return fail(err, err_len, "shape not prepared (call hcpcal_sdpa_prepare first)");
    const cudnnStatus_t sst = cudnnSetStream(c->handle, static_cast<cudaStream_t>(stream));
    if (sst != CUDNN_STATUS_SUCCESS)
      return fail(err, err_len, std::string("cudnnSetStream: ") + cudnnGetErrorString(sst));
    std::unordered_map<int64_t, void*> pack;
    if (!shape->backward) {
      pack = {{kQ, ptrs[0]}, {kK, ptrs[1]}, {kV, ptrs[2]}, {kO, ptrs[3]}, {kStats, ptrs[4]}};
    } else {
      pack = {{kQ, ptrs[0]},     {kK, ptrs[1]},  {kV, ptrs[2]},  {kO, ptrs[3]}, {kDO, ptrs[4]},
              {kStats, ptrs[5]}, {kDQ, ptrs[6]}, {kDK, ptrs[7]}, {kDV, ptrs[8]}};
    }
    auto st = it->second->execute(c->handle, pack, workspace);
    if (!st.is_good()) return fail(err, err_len, "cuDNN graph execute: " + st.get_message());
    return 0;
  } catch (const std::exception& e) {
    return fail(err, err_len, std::string("cuDNN graph: ") + e.what());
  } catch (...) {
    return fail(err, err_len, "cuDNN graph: unknown exception");
  }
}

}  // extern "C"
