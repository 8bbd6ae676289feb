// hcpcal's suites: each sweeps its shapes, prints one table (nccl-tests layout: '#' header,
// units row, fixed-width data rows) and adds one Record per measurement to the log.
#pragma once
#include "options.h"
#include "results.h"

namespace hcpcal {

void run_attention_suite(const Options& o, MeasurementLog& log);
void run_gemm_suite(const Options& o, MeasurementLog& log);
void run_copy_suite(const Options& o, MeasurementLog& log);
void run_cp_suite(const Options& o, MeasurementLog& log);

}  // namespace hcpcal
