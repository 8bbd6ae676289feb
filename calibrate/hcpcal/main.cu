// hcpcal: measures on this GPU what hcpsim's cost model stands for (attention kernels,
// cuBLAS GEMMs, copy bandwidth) and writes measurements.json for `hcpsim fit` / `check`.
// One process, one GPU (CUDA_VISIBLE_DEVICES picks it). Output follows nccl-tests: every
// non-data line starts with '#'. Exit 0 when every check passed, 1 when any element was
// wrong, 2 on bad flags, 3 on a CUDA/cuBLAS failure (finished measurements stay in the file).
#include <cstdio>
#include <stdexcept>

#include "environment.h"
#include "options.h"
#include "results.h"
#include "suites.h"

int main(int argc, char** argv) {
  using namespace hcpcal;
  Options o;
  try {
    o = parse_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "hcpcal: %s\n%s", e.what(), usage().c_str());
    return 2;
  }
  if (o.help) {
    std::printf("%s", usage().c_str());
    return 0;
  }
  try {
    std::string summary;
    const std::string env = environment_json(&summary);
    std::printf("# hcpcal: %s\n# iterations %d, warm-up %d, check %d, out %s\n", summary.c_str(), o.iters, o.warmup,
                int(o.check), o.out.c_str());
    MeasurementLog log(o.out, o.argv, env);
    if (wants(o, "attention")) run_attention_suite(o, log);
    if (wants(o, "gemm")) run_gemm_suite(o, log);
    if (wants(o, "copy")) run_copy_suite(o, log);
    if (wants(o, "cp")) run_cp_suite(o, log);
    log.finish();
    const long long wrong = log.total_wrong();
    std::printf("#\n# Out of bounds values : %lld %s\n", wrong, wrong ? "FAILED" : "OK");
    return wrong ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hcpcal: %s\n", e.what());
    return 3;
  }
}
