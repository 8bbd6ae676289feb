// Suite 4: NCCL send/recv (ring pairs), all-to-all, all-gather, reduce-scatter and all-reduce
// in bf16 over sizes -b..-e by -f, for each group layout the ranks present allow
// (launch.h: intra-node, cross-node same rail, cross-node cross rail; all groups of a layout
// run at once). Sizes, algbw and busbw follow nccl-tests (rules/collective.hpp: buffer sizes,
// bus bandwidth factor); time = the slowest rank's median. All-to-all is grouped ncclSend/ncclRecv
// (one pair per peer), as the CP a2a does, so it needs no NCCL newer than 2.18 (ncclCommSplit).
// Check: member p fills element i of its send buffer with ((3p + i) mod 5) - 2 (small
// integers: every bf16 sum over up to 128 ranks is exact); the receive buffer is poisoned
// (NaN) and every element compared with its closed form.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "device_util.cuh"
#include "launch.cuh"
#include "suites.h"

namespace hcpcal {

namespace {

constexpr const auto& kOps = hcpsim::kCommPatterns;  // sendrecv, all_to_all, all_gather, reduce_scatter, all_reduce

__host__ __device__ inline float fill_value(int pos, long long i) { return float(int((3LL * pos + i) % 5) - 2); }

__global__ void fill_kernel(__nv_bfloat16* p, long long n, int pos) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    p[i] = __float2bfloat16(fill_value(pos, i));
}

// The value element `idx` of member p's receive buffer must hold (n members, E = total elements).
__device__ float expected(CommPattern op, int p, int n, long long E, long long idx) {
  const long long per = E / n;
  switch (op) {
    case CommPattern::SendRecv: return fill_value((p + n - 1) % n, idx);
    case CommPattern::AllToAll: return fill_value(int(idx / per), p * per + idx % per);
    case CommPattern::AllGather: return fill_value(int(idx / per), idx % per);
    case CommPattern::ReduceScatter: {
      float s = 0;
      for (int q = 0; q < n; ++q) s += fill_value(q, p * per + idx);
      return s;
    }
    case CommPattern::AllReduce: {
      float s = 0;
      for (int q = 0; q < n; ++q) s += fill_value(q, idx);
      return s;
    }
  }
  return 0;
}

__global__ void wrong_kernel(const __nv_bfloat16* out, long long count, CommPattern op, int p, int n, long long E,
                             unsigned long long* wrong) {
  unsigned long long local = 0;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
    local += !(__bfloat162float(out[i]) == expected(op, p, n, E, i));
  if (local) atomicAdd(wrong, local);
}

long long count_wrong(const __nv_bfloat16* out, long long count, CommPattern op, int p, int n, long long E,
                      cudaStream_t s) {
  unsigned long long* d = nullptr;
  HCPSIM_CUDA_CHECK(cudaMalloc(&d, sizeof *d));
  HCPSIM_CUDA_CHECK(cudaMemsetAsync(d, 0, sizeof *d, s));
  wrong_kernel<<<1024, 256, 0, s>>>(out, count, op, p, n, E, d);
  HCPSIM_CUDA_CHECK_LAUNCH();
  unsigned long long h = 0;
  HCPSIM_CUDA_CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, s));
  HCPSIM_CUDA_CHECK(cudaStreamSynchronize(s));
  HCPSIM_CUDA_CHECK(cudaFree(d));
  return (long long)h;
}

// Enqueues member p's part of one collective of E total elements (nccl-tests size 2E bytes).
void enqueue(CommPattern op, ncclComm_t c, int p, int n, const __nv_bfloat16* send, __nv_bfloat16* recv, long long E,
             cudaStream_t st) {
  const size_t per = size_t(E / n);
  switch (op) {
    case CommPattern::SendRecv:
      HCPCAL_NCCL_CHECK(ncclSend(send, size_t(E), ncclBfloat16, (p + 1) % n, c, st));
      HCPCAL_NCCL_CHECK(ncclRecv(recv, size_t(E), ncclBfloat16, (p + n - 1) % n, c, st));
      break;
    case CommPattern::AllToAll:
      for (int j = 0; j < n; ++j) {
        HCPCAL_NCCL_CHECK(ncclSend(send + j * per, per, ncclBfloat16, j, c, st));
        HCPCAL_NCCL_CHECK(ncclRecv(recv + j * per, per, ncclBfloat16, j, c, st));
      }
      break;
    case CommPattern::AllGather: HCPCAL_NCCL_CHECK(ncclAllGather(send, recv, per, ncclBfloat16, c, st)); break;
    case CommPattern::ReduceScatter:
      HCPCAL_NCCL_CHECK(ncclReduceScatter(send, recv, per, ncclBfloat16, ncclSum, c, st));
      break;
    case CommPattern::AllReduce:
      HCPCAL_NCCL_CHECK(ncclAllReduce(send, recv, size_t(E), ncclBfloat16, ncclSum, c, st));
      break;
  }
}

}  // namespace

void run_nccl_suite(const Options& o, NcclWorld& w, MeasurementLog* log) {
  const bool out = w.writer();
  std::vector<std::string> why_not;
  const std::vector<GroupLayout> layouts = group_layouts(w.placement(), &why_not);
  if (out) {
    std::printf("#\n# nccl: %d rank(s) on %d node(s), %d per node, %d process(es) x %d GPU(s); bf16; time = slowest "
                "rank's median\n# busbw = algbw x (sendrecv 1, all_to_all/all_gather/reduce_scatter (n-1)/n, "
                "all_reduce 2(n-1)/n)\n",
                w.ranks(), w.placement().node_count(), w.placement().gpus_per_node, w.processes().size(), w.slots());
    for (const auto& why : why_not) std::printf("# %s\n", why.c_str());
    std::printf("# %12s %12s %5s %14s %22s %5s %10s %8s %8s %6s\n", "size", "count", "type", "op", "layout", "ranks",
                "time", "algbw", "busbw", "#wrong");
    std::printf("# %12s %12s %5s %14s %22s %5s %10s %8s %8s %6s\n", "(B)", "(elements)", "", "", "", "", "(us)",
                "(GB/s)", "(GB/s)", "");
  }
  // One send and one receive buffer per slot, of the largest size.
  const long long max_bytes = (o.max_bytes + 2LL * w.ranks() - 1) / (2LL * w.ranks()) * (2LL * w.ranks());
  std::vector<std::unique_ptr<DeviceBuffer>> send(w.slots()), recv(w.slots());
  std::vector<cudaStream_t> streams;
  for (int s = 0; s < w.slots(); ++s) {
    HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
    send[s] = std::make_unique<DeviceBuffer>(size_t(max_bytes));
    recv[s] = std::make_unique<DeviceBuffer>(size_t(max_bytes));
    streams.push_back(w.stream(s));
  }
  for (const GroupLayout& g : layouts) {
    const std::vector<ncclComm_t>& comms = w.split(to_string(g.layout), g.color, g.key);
    const int n = g.group_size;
    std::vector<int> pos(w.slots());
    for (int s = 0; s < w.slots(); ++s) HCPCAL_NCCL_CHECK(ncclCommUserRank(comms[s], &pos[s]));
    const int group_nodes = g.layout == CollectiveLayout::IntraNode ? 1 : w.placement().node_count();
    for (CommPattern op : kOps) {
      for (long long bytes : message_sizes(o.min_bytes, max_bytes, o.step_factor, 2LL * n)) {
        const long long E = bytes / 2;
        const long long send_elements = collective::send_buffer_bytes(op, bytes, n) / 2;  // bf16
        const long long recv_elements = collective::recv_buffer_bytes(op, bytes, n) / 2;
        auto run = [&](int) {
          HCPCAL_NCCL_CHECK(ncclGroupStart());
          for (int s = 0; s < w.slots(); ++s)
            enqueue(op, comms[s], pos[s], n, send[s]->bf16(), recv[s]->bf16(), E, w.stream(s));
          HCPCAL_NCCL_CHECK(ncclGroupEnd());
        };
        std::vector<long long> wrong(w.slots(), 0);
        if (o.check) {
          for (int s = 0; s < w.slots(); ++s) {
            HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
            fill_kernel<<<1024, 256, 0, w.stream(s)>>>(send[s]->bf16(), send_elements, pos[s]);
            HCPSIM_CUDA_CHECK_LAUNCH();
            HCPSIM_CUDA_CHECK(cudaMemsetAsync(recv[s]->ptr, 0xFF, size_t(recv_elements) * 2, w.stream(s)));
          }
          run(0);
          for (int s = 0; s < w.slots(); ++s) {
            HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(s)));
            wrong[s] = count_wrong(recv[s]->bf16(), recv_elements, op, pos[s], n, E, w.stream(s));
          }
        }
        const RankTiming t = merge_over_ranks(w, time_on_slots(w, streams, run, o), wrong);
        const double algbw = double(bytes) / t.median_s * 1e-9;
        const double busbw = algbw * collective::bus_bandwidth_factor(op, n);
        if (!out) continue;
        std::printf("  %12lld %12lld %5s %14s %22s %5d %10.1f %8.2f %8.2f %6lld\n", bytes, E, "bf16", to_string(op),
                    to_string(g.layout), n, t.median_s * 1e6, algbw, busbw, t.wrong);
        std::fflush(stdout);
        TimeStats ts;
        ts.iterations = o.iters;
        ts.median_s = t.median_s;
        ts.min_s = t.min_s;
        ts.max_s = t.max_s;
        Record r = make_record("collective", "nccl",
                               {{"op", json_string(to_string(op))},
                                {"bytes", std::to_string(bytes)},
                                {"dtype", json_string("bf16")},
                                {"ranks", std::to_string(n)},
                                {"layout", json_string(to_string(g.layout))},
                                {"nodes", std::to_string(group_nodes)},
                                {"gpus_per_node", std::to_string(w.placement().gpus_per_node)}},
                               ts, o.check, t.wrong);
        r.results = {{"algbw_GBps", json_number(algbw)}, {"busbw_GBps", json_number(busbw)}};
        log->add(std::move(r));
      }
    }
  }
  HCPSIM_CUDA_CHECK(cudaSetDevice(w.device(0)));
}

}  // namespace hcpcal
