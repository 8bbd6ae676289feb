// Entry point of hcpsim_gpu_tests: skips with exit code 77 (ctest SKIP_RETURN_CODE) where no
// CUDA device exists, else runs every registered case (or those whose name contains argv[1])
// and exits non-zero on any failure. HCPSIM_TEST_SEED fixes the otherwise fresh seed.
#include <cmath>
#include <cstdlib>
#include <exception>

#include "cpu_reference.h"
#include "gpu_test.h"

namespace hcpsim::test {

Bf16Host random_bf16(Context& ctx, size_t n, double stddev) {
  std::normal_distribution<float> dist(0.f, static_cast<float>(stddev));
  Bf16Host h;
  h.values.resize(n);
  h.bits.resize(n);
  for (size_t i = 0; i < n; ++i) {
    h.bits[i] = bf16_bits(dist(ctx.rng));
    h.values[i] = bf16_value(h.bits[i]);
  }
  return h;
}

std::vector<float> bf16_to_float(const std::vector<uint16_t>& bits) {
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = bf16_value(bits[i]);
  return out;
}

std::vector<uint16_t> download_bf16(const DeviceBuffer& buf) {
  std::vector<uint16_t> out(buf.bytes() / 2);
  buf.download(out.data());
  return out;
}

std::vector<float> download_f32(const DeviceBuffer& buf) {
  std::vector<float> out(buf.bytes() / 4);
  buf.download(out.data());
  return out;
}

template <class T>
static double max_err(const std::vector<T>& got, const std::vector<double>& ref) {
  if (got.size() != ref.size()) return INFINITY;
  double err = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(static_cast<double>(got[i]))) return INFINITY;
    err = std::max(err, std::fabs(static_cast<double>(got[i]) - ref[i]));
  }
  return err;
}
double max_abs_err(const std::vector<float>& got, const std::vector<double>& ref) { return max_err(got, ref); }
double max_abs_err(const std::vector<double>& got, const std::vector<double>& ref) { return max_err(got, ref); }

double max_abs(const std::vector<double>& ref) {
  double m = 0.0;
  for (double x : ref) m = std::max(m, std::fabs(x));
  return m;
}

void check_tolerance(Context& ctx, const std::string& what, double kernel_err, double naive_err, double atol) {
  const double bound = 2.0 * naive_err + atol;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: err %.3g > bound %.3g (naive bf16 err %.3g, atol %.2g)", what.c_str(),
                kernel_err, bound, naive_err, atol);
  ctx.check(kernel_err <= bound, buf);
}

}  // namespace hcpsim::test

int main(int argc, char** argv) {
  using namespace hcpsim::test;
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device (cudaGetDeviceCount: %s)\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "0 devices");
    return 77;
  }
  const char* seed_env = std::getenv("HCPSIM_TEST_SEED");
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
  const std::string filter = argc > 1 ? argv[1] : "";
  std::printf("# hcpsim GPU kernel tests, seed %llu (HCPSIM_TEST_SEED to repeat)\n",
              static_cast<unsigned long long>(seed));
  int passed = 0, failed = 0, checks = 0;
  for (const auto& t : Registry::all()) {
    if (!filter.empty() && t.name.find(filter) == std::string::npos) continue;
    Context ctx;
    ctx.rng.seed(seed ^ std::hash<std::string>{}(t.name));
    try {
      t.fn(ctx);
    } catch (const std::exception& e) {
      ctx.check(false, std::string("exception: ") + e.what());
    }
    checks += ctx.checks;
    std::printf("%s %s (%d checks)\n", ctx.failures == 0 ? "PASS" : "FAIL", t.name.c_str(), ctx.checks);
    std::fflush(stdout);
    (ctx.failures == 0 ? passed : failed)++;
  }
  std::printf("# %d test cases passed, %d failed, %d checks\n", passed, failed, checks);
  return failed == 0 && passed > 0 ? 0 : 1;
}
