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
//   ./block_placement <blocks> <per_sm: 1..4> <period> <unit_ns>
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

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <blocks> <per_sm> <period> <unit_ns>\n", argv[0]);
    return 2;
  }
  const int blocks = std::atoi(argv[1]), per_sm = std::atoi(argv[2]), period = std::atoi(argv[3]);
  const unsigned long long unit_ns = std::strtoull(argv[4], nullptr, 10);
  if (blocks < 1 || per_sm < 1 || per_sm > 4 || period < 1) {
    std::fprintf(stderr, "blocks >= 1, per_sm in 1..4, period >= 1\n");
    return 2;
  }
  cudaDeviceProp p;
  CHECK(cudaGetDeviceProperties(&p, 0));
  // Shared memory per block so that exactly per_sm blocks fit on an SM.
  const size_t smem = p.sharedMemPerMultiprocessor / per_sm - 2048;
  CHECK(cudaFuncSetAttribute(probe, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  int fit = 0;
  CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&fit, probe, 128, smem));
  unsigned* sm;
  unsigned long long *start, *end;
  CHECK(cudaMalloc(&sm, blocks * sizeof(unsigned)));
  CHECK(cudaMalloc(&start, blocks * sizeof(unsigned long long)));
  CHECK(cudaMalloc(&end, blocks * sizeof(unsigned long long)));
  for (int warm = 0; warm < 3; ++warm) probe<<<blocks, 128, smem>>>(period, unit_ns, sm, start, end);
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  std::vector<unsigned> h_sm(blocks);
  std::vector<unsigned long long> h_start(blocks), h_end(blocks);
  CHECK(cudaMemcpy(h_sm.data(), sm, blocks * sizeof(unsigned), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(h_start.data(), start, blocks * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(h_end.data(), end, blocks * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  unsigned long long t0 = h_start[0];
  for (int b = 0; b < blocks; ++b) t0 = h_start[b] < t0 ? h_start[b] : t0;
  std::printf("# %s, %d SMs; %d blocks of 128 threads, %zu B shared (%d per SM), period %d, unit %llu ns\n",
              p.name, p.multiProcessorCount, blocks, smem, fit, period, unit_ns);
  std::printf("# block sm start_ns end_ns\n");
  for (int b = 0; b < blocks; ++b)
    std::printf("%d %u %llu %llu\n", b, h_sm[b], h_start[b] - t0, h_end[b] - t0);
  return 0;
}
