// Suite 3: device-to-device copy bandwidth (cudaMemcpyAsync) from -b to -e bytes, step -f.
// busbw counts bytes read plus bytes written (2 x size), as the cost model's elementwise
// ops count bytes moved. Sizes below the L2 (about 60 MB on an H200) partly hit in cache.
// Check: the destination is compared word by word with the source.
#include <cstdio>

#include "device_util.cuh"
#include "suites.h"

namespace hcpcal {

void run_copy_suite(const Options& o, MeasurementLog& log) {
  cudaStream_t stream;
  HCPSIM_CUDA_CHECK(cudaStreamCreate(&stream));
  std::printf("#\n# copy: cudaMemcpyAsync device to device; busbw = 2 x size / time (read + write)\n");
  std::printf("# %12s %10s %8s %6s\n", "size", "time", "busbw", "#wrong");
  std::printf("# %12s %10s %8s %6s\n", "(B)", "(us)", "(GB/s)", "");
  for (double sz = double(o.min_bytes); sz <= double(o.max_bytes); sz *= o.step_factor) {
    const size_t bytes = (size_t(sz) + 3) / 4 * 4;
    DeviceBuffer src(bytes), dst(bytes);
    fill_random_bf16(src, 7, stream);
    long long wrong = 0;
    if (o.check) {
      poison(dst, stream);
      HCPSIM_CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, bytes, cudaMemcpyDeviceToDevice, stream));
      wrong = count_mismatched_words(src.ptr, dst.ptr, bytes, stream);
    }
    const TimeStats t = time_on_stream(
        [&](int) { HCPSIM_CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, bytes, cudaMemcpyDeviceToDevice, stream)); },
        o, stream);
    std::printf("  %12zu %10.1f %8.1f %6lld\n", bytes, t.median_s * 1e6, 2.0 * bytes / t.median_s * 1e-9, wrong);
    std::fflush(stdout);
    log.add(make_record("copy", "cudaMemcpy", {{"bytes", std::to_string(bytes)}, {"bytes_moved", std::to_string(2 * bytes)}},
                        t, o.check, wrong));
  }
  HCPSIM_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace hcpcal
