// block_placement: where the GPU's block scheduler puts a launch's thread blocks and when each
// starts, for a grid of N blocks that fit `per_sm` at a time on an SM. Each block reads its SM
// (%smid) and the global timer, then waits `unit_ns x (blockIdx.x mod period + 1)` (period 1: all
// equal; FlashAttention-2's causal forward has q tile i walk i + 1 tile pairs, grid x = the query
// tile: period = the tiles of one head) and records its end. Prints one line per block: block sm
// start_ns end_ns (relative to the first start). block_placement_pairs.py summarises which blocks
// shared an SM from the start, second_fill_lead.py where the second fill starts, the questions
// behind FlashAttention-2's two-CTAs-per-SM schedule in hcpsim's shape model
// (cost/attention_tiles.hpp, shared_sm_schedule; calibrate/RESULTS.md, sixteenth, seventeenth and
// nineteenth runs).
//
//   cmake --build build-gpu --target block_placement   (or: nvcc -O2 -arch=sm_90 -o block_placement block_placement.cu)
//   ./block_placement <blocks> <per_sm: 1..4> <period> <unit_ns> [launches] [--limit smem|registers] [--before N]
//
// --limit: which resource holds an SM to per_sm blocks. smem (the default): dynamic shared memory,
// a tiny kernel. registers (per_sm 2 only): a kernel of about 200 registers a thread and 64 KiB of
// shared memory, FlashAttention-2's forward's profile (255 registers x 128 threads, Q, K and V
// tiles at head dim 128), for a scheduler that might place by the limiting resource.
// With launches > 1, each recorded launch follows a kernel of uneven blocks (`filler`, 2 x SMs
// blocks, or --before N; two an SM by shared memory in every mode), without a sync between: which blocks share an SM when the previous
// kernel's tail frees the SMs, as back to back in a training step (rules/block_placement.hpp draws
// such placements). With one launch, three identical launches run back to back, the last recorded.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <cuda_runtime.h>

#define CHECK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { \
  std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e)); std::exit(1); } } while (0)

__device__ unsigned long long now_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void probe(int period, unsigned long long unit_ns, unsigned* sm, unsigned long long* start,
                      unsigned long long* end) {
  extern __shared__ char pad[];
  if (threadIdx.x != 0) return;
  unsigned id;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
  const unsigned long long t0 = now_ns();
  pad[0] = char(id);
  const unsigned long long wait = unit_ns * (unsigned long long)(blockIdx.x % period + 1);
  while (now_ns() - t0 < wait) {
  }
  sm[blockIdx.x] = id;
  start[blockIdx.x] = t0;
  end[blockIdx.x] = now_ns();
}

// probe with FlashAttention-2's register profile: 128 threads of about 200 live registers each
// (acc, below; the compiler keeps it in registers, ptxas -v), so that registers, not shared
// memory, hold an SM to two blocks. Thread 0 records as probe does.
constexpr int kLiveRegisters = 200;
__global__ void __launch_bounds__(128) probe_registers(int period, unsigned long long unit_ns, unsigned* sm,
                                                       unsigned long long* start, unsigned long long* end,
                                                       float* sink) {
  extern __shared__ char pad[];
  float acc[kLiveRegisters];
#pragma unroll
  for (int i = 0; i < kLiveRegisters; ++i) acc[i] = float(threadIdx.x + i) * 1e-3f;
  unsigned id;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
  const unsigned long long t0 = now_ns();
  const unsigned long long wait = unit_ns * (unsigned long long)(blockIdx.x % period + 1);
  while (now_ns() - t0 < wait) {
#pragma unroll
    for (int i = 0; i < kLiveRegisters; ++i) acc[i] = acc[i] * 0.999f + acc[(i + 1) % kLiveRegisters] * 1e-4f;
  }
  float sum = 0;
#pragma unroll
  for (int i = 0; i < kLiveRegisters; ++i) sum += acc[i];
  if (sum == 12345.f) sink[threadIdx.x] = sum;  // never true: keeps acc live
  pad[threadIdx.x] = char(id);
  if (threadIdx.x != 0) return;
  sm[blockIdx.x] = id;
  start[blockIdx.x] = t0;
  end[blockIdx.x] = now_ns();
}

// A kernel of uneven blocks before each probe launch, so that the probe starts where its tail
// frees SMs, as a kernel of a training step starts after the previous one: block b waits
// unit_ns x (a hash of b and the launch, mod 8, + 1).
__global__ void filler(unsigned seed, unsigned long long unit_ns) {
  extern __shared__ char pad[];
  if (threadIdx.x != 0) return;
  unsigned h = (blockIdx.x + 1u) * 2654435761u ^ (seed + 1u) * 2246822519u;
  h ^= h >> 15;
  const unsigned long long t0 = now_ns(), wait = unit_ns * (unsigned long long)(h % 8u + 1u);
  pad[0] = char(h);
  while (now_ns() - t0 < wait) {
  }
}

int main(int argc, char** argv) {
  const char* usage = "usage: %s <blocks> <per_sm> <period> <unit_ns> [launches] [--limit smem|registers] [--before N]\n";
  std::vector<const char*> positional;
  bool by_registers = false;
  int before = 0;  // the filler's blocks; 0: 2 x SMs
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
      const std::string limit = argv[++i];
      if (limit != "smem" && limit != "registers") {
        std::fprintf(stderr, "--limit: smem or registers, not %s\n", limit.c_str());
        return 2;
      }
      by_registers = limit == "registers";
    } else if (std::strcmp(argv[i], "--before") == 0 && i + 1 < argc) {
      char* rest = nullptr;
      const long v = std::strtol(argv[++i], &rest, 10);
      before = *rest == '\0' && v > 0 && v <= 1 << 20 ? int(v) : 0;
      if (before < 1) {
        std::fprintf(stderr, "--before: the filler's block count, at least 1\n");
        return 2;
      }
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, usage, argv[0]);
      return 2;
    } else {
      positional.push_back(argv[i]);
    }
  }
  if (positional.size() != 4 && positional.size() != 5) {
    std::fprintf(stderr, usage, argv[0]);
    return 2;
  }
  const int blocks = std::atoi(positional[0]), per_sm = std::atoi(positional[1]), period = std::atoi(positional[2]);
  const unsigned long long unit_ns = std::strtoull(positional[3], nullptr, 10);
  const int launches = positional.size() == 5 ? std::atoi(positional[4]) : 1;
  if (blocks < 1 || per_sm < 1 || per_sm > 4 || period < 1 || launches < 1 || launches > 1000) {
    std::fprintf(stderr, "blocks >= 1, per_sm in 1..4, period >= 1, launches in 1..1000\n");
    return 2;
  }
  if (before > 0 && launches == 1) {
    std::fprintf(stderr, "--before sets the kernel before each recorded launch: give launches > 1\n");
    return 2;
  }
  if (by_registers && per_sm != 2) {
    std::fprintf(stderr, "--limit registers holds an SM to 2 blocks: per_sm must be 2\n");
    return 2;
  }
  cudaDeviceProp p;
  CHECK(cudaGetDeviceProperties(&p, 0));
  // Shared memory per block: so that exactly per_sm blocks fit on an SM, or FlashAttention-2's 64 KiB.
  const size_t smem = by_registers ? size_t(64) << 10 : p.sharedMemPerMultiprocessor / per_sm - 2048;
  CHECK(cudaFuncSetAttribute(probe, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  CHECK(cudaFuncSetAttribute(probe_registers, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  // The filler as in every mode (two blocks an SM by shared memory), whatever the probe's limit.
  const size_t filler_smem = p.sharedMemPerMultiprocessor / 2 - 2048;
  CHECK(cudaFuncSetAttribute(filler, cudaFuncAttributeMaxDynamicSharedMemorySize, int(filler_smem)));
  int fit = 0;
  if (by_registers)
    CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&fit, probe_registers, 128, smem));
  else
    CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&fit, probe, 128, smem));
  if (fit != per_sm) {
    std::fprintf(stderr, "%d blocks fit on an SM, not %d: this GPU's limits differ\n", fit, per_sm);
    return 1;
  }
  cudaFuncAttributes attributes;
  CHECK(cudaFuncGetAttributes(&attributes, by_registers ? (const void*)probe_registers : (const void*)probe));
  const size_t n = size_t(blocks) * size_t(launches);
  unsigned* sm;
  unsigned long long *start, *end;
  float* sink;
  CHECK(cudaMalloc(&sm, n * sizeof(unsigned)));
  CHECK(cudaMalloc(&start, n * sizeof(unsigned long long)));
  CHECK(cudaMalloc(&end, n * sizeof(unsigned long long)));
  CHECK(cudaMalloc(&sink, 128 * sizeof(float)));
  const auto launch = [&](size_t offset) {
    if (by_registers)
      probe_registers<<<blocks, 128, smem>>>(period, unit_ns, sm + offset, start + offset, end + offset, sink);
    else
      probe<<<blocks, 128, smem>>>(period, unit_ns, sm + offset, start + offset, end + offset);
  };
  // One launch: three identical launches back to back, the last one recorded. Several: each
  // recorded launch follows a filler of uneven blocks (a different one each time), no sync between.
  if (launches == 1) {
    for (int warm = 0; warm < 3; ++warm) launch(0);
  } else {
    for (int l = 0; l < launches; ++l) {
      filler<<<before > 0 ? before : 2 * p.multiProcessorCount, 128, filler_smem>>>(unsigned(l), unit_ns);
      launch(size_t(l) * blocks);
    }
  }
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  std::vector<unsigned> h_sm(n);
  std::vector<unsigned long long> h_start(n), h_end(n);
  CHECK(cudaMemcpy(h_sm.data(), sm, n * sizeof(unsigned), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(h_start.data(), start, n * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(h_end.data(), end, n * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  std::printf("# %s, %d SMs; %d blocks of 128 threads, %zu B shared, %d registers (%d per SM, held by %s), period %d,"
              " unit %llu ns\n",
              p.name, p.multiProcessorCount, blocks, smem, attributes.numRegs, fit, by_registers ? "registers" : "smem",
              period, unit_ns);
  for (int l = 0; l < launches; ++l) {
    const size_t o = size_t(l) * blocks;
    unsigned long long t0 = h_start[o];
    for (int b = 0; b < blocks; ++b) t0 = h_start[o + b] < t0 ? h_start[o + b] : t0;
    if (launches > 1)
      std::printf("# launch %d (after a filler of %d uneven blocks)\n", l, before > 0 ? before : 2 * p.multiProcessorCount);
    std::printf("# block sm start_ns end_ns\n");
    for (int b = 0; b < blocks; ++b)
      std::printf("%d %u %llu %llu\n", b, h_sm[o + b], h_start[o + b] - t0, h_end[o + b] - t0);
  }
  return 0;
}
