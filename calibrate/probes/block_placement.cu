// block_placement: where the GPU's block scheduler puts a launch's thread blocks and when each
// starts, for a grid of N blocks that fit `per_sm` at a time on an SM (dynamic shared memory sets
// the occupancy). Each block reads its SM (%smid) and the global timer, then waits
// `unit_ns x (blockIdx.x mod period + 1)` (period 1: all equal; FlashAttention-2's causal forward
// has q tile i walk i + 1 tile pairs, grid x = the query tile: period = the tiles of one head) and
// records its end. Prints one line per block: block sm start_ns end_ns (relative to the first
// start). block_placement_pairs.py summarises which blocks shared an SM from the start, the
// question behind FlashAttention-2's two-CTAs-per-SM schedule in hcpsim's shape model
// (cost/attention_tiles.hpp, shared_sm_schedule; calibrate/RESULTS.md, "Sixteenth run").
//
//   cmake --build build-gpu --target block_placement   (or: nvcc -O2 -arch=sm_90 -o block_placement block_placement.cu)
//   ./block_placement <blocks> <per_sm: 1..4> <period> <unit_ns> [launches]
//
// With launches > 1, each recorded launch follows a kernel of uneven blocks (`filler`), without a
// sync between: which blocks share an SM when the previous kernel's tail frees the SMs, as back
// to back in a training step (rules/block_placement.hpp draws such placements).
#include <cstdio>
#include <cstdlib>
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
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s <blocks> <per_sm> <period> <unit_ns> [launches]\n", argv[0]);
    return 2;
  }
  const int blocks = std::atoi(argv[1]), per_sm = std::atoi(argv[2]), period = std::atoi(argv[3]);
  const unsigned long long unit_ns = std::strtoull(argv[4], nullptr, 10);
  const int launches = argc == 6 ? std::atoi(argv[5]) : 1;
  if (blocks < 1 || per_sm < 1 || per_sm > 4 || period < 1 || launches < 1 || launches > 1000) {
    std::fprintf(stderr, "blocks >= 1, per_sm in 1..4, period >= 1, launches in 1..1000\n");
    return 2;
  }
  cudaDeviceProp p;
  CHECK(cudaGetDeviceProperties(&p, 0));
  // Shared memory per block so that exactly per_sm blocks fit on an SM.
  const size_t smem = p.sharedMemPerMultiprocessor / per_sm - 2048;
  CHECK(cudaFuncSetAttribute(probe, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  CHECK(cudaFuncSetAttribute(filler, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  int fit = 0;
  CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&fit, probe, 128, smem));
  const size_t n = size_t(blocks) * size_t(launches);
  unsigned* sm;
  unsigned long long *start, *end;
  CHECK(cudaMalloc(&sm, n * sizeof(unsigned)));
  CHECK(cudaMalloc(&start, n * sizeof(unsigned long long)));
  CHECK(cudaMalloc(&end, n * sizeof(unsigned long long)));
  // One launch: three identical launches back to back, the last one recorded. Several: each
  // recorded launch follows a filler of uneven blocks (a different one each time), no sync between.
  if (launches == 1) {
    for (int warm = 0; warm < 3; ++warm) probe<<<blocks, 128, smem>>>(period, unit_ns, sm, start, end);
  } else {
    for (int l = 0; l < launches; ++l) {
      filler<<<2 * p.multiProcessorCount, 128, smem>>>(unsigned(l), unit_ns);
      probe<<<blocks, 128, smem>>>(period, unit_ns, sm + size_t(l) * blocks, start + size_t(l) * blocks,
                                   end + size_t(l) * blocks);
    }
  }
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  std::vector<unsigned> h_sm(n);
  std::vector<unsigned long long> h_start(n), h_end(n);
  CHECK(cudaMemcpy(h_sm.data(), sm, n * sizeof(unsigned), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(h_start.data(), start, n * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(h_end.data(), end, n * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  std::printf("# %s, %d SMs; %d blocks of 128 threads, %zu B shared (%d per SM), period %d, unit %llu ns\n",
              p.name, p.multiProcessorCount, blocks, smem, fit, period, unit_ns);
  for (int l = 0; l < launches; ++l) {
    const size_t o = size_t(l) * blocks;
    unsigned long long t0 = h_start[o];
    for (int b = 0; b < blocks; ++b) t0 = h_start[o + b] < t0 ? h_start[o + b] : t0;
    if (launches > 1) std::printf("# launch %d (after a filler of uneven blocks)\n", l);
    std::printf("# block sm start_ns end_ns\n");
    for (int b = 0; b < blocks; ++b)
      std::printf("%d %u %llu %llu\n", b, h_sm[o + b], h_start[o + b] - t0, h_end[o + b] - t0);
  }
  return 0;
}
