// hcpcal's suites: each sweeps its shapes, prints one table (nccl-tests layout: '#' header,
// units row, fixed-width data rows) and adds one Record per measurement to the log.
#pragma once
#include "options.h"
#include "results.h"

namespace hcpcal {

class NcclWorld;

void run_attention_suite(const Options& o, MeasurementLog& log);
void run_gemm_suite(const Options& o, MeasurementLog& log);
void run_copy_suite(const Options& o, MeasurementLog& log);
void run_cp_suite(const Options& o, MeasurementLog& log);  // one rank: virtual ranks on this GPU
// Multi-rank suites: every process runs them; `log` is the writer's (process 0), null elsewhere.
void run_nccl_suite(const Options& o, NcclWorld& w, MeasurementLog* log);
void run_interference_suite(const Options& o, NcclWorld& w, MeasurementLog* log);
// Several ranks: the CP suite with one CP group of every rank over NCCL.
void run_cp_suite(const Options& o, NcclWorld& w, MeasurementLog* log);

}  // namespace hcpcal
