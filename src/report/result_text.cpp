#include "report/result_text.hpp"

#include "rules/host_launch.hpp"

#include <algorithm>
#include "common/strprintf.hpp"

#include <cstdio>


namespace hcpsim {

namespace {

std::string f(const char* format, double a) { return strprintf(format, a); }

// "± 4.1% (largest: attention kernels, 62% of the time at ±5.2%: <basis>)"
std::string band_text(const Uncertainty& u) {
  if (u.components.empty()) return "";
  const UncertaintyComponent& c = u.components.front();
  return " \u00b1 " + f("%.1f%%", 100 * u.relative) + " (largest: " + c.what + ", " + f("%.0f%%", 100 * c.share) +
         " of the time at \u00b1" + f("%.1f%%", 100 * c.relative) + ": " + c.basis + ")";
}

// The CPU's launches against the GPUs' schedule (run/step_composition.hpp).
std::string host_text(const StepMetrics& s, const std::string& gpu_name) {
  const StepTime& c = s.composed;
  return "host:      the CPU launches the step's work in " + f("%.3f s", c.host_launch_s) + " (" +
         std::to_string(c.host_launches) + " launches a micro batch at " + f("%.1f us", s.inputs.host_per_launch_s * 1e6) +
         " on " + rules::host_cpu_name(gpu_name) +
         (c.host_bound ? "), against the GPUs' " + f("%.3f s", c.pipeline_s - c.host_wait_s) +
                             ": where the GPUs run ahead of it the step waits " + f("%.3f s", c.host_wait_s) + " for it"
                       : "), within the GPUs' " + f("%.3f s", c.pipeline_s - c.host_wait_s)) +
         (s.inputs.pipeline.host_syncs_per_transfer()
              ? "; it waits for the GPU after every stage-to-stage transfer (Megatron's batch_p2p_sync), " +
                    f("%.1f ms", 1e3 * c.host_wait_s) + " later than the GPUs alone\n"
              : "\n");
}

// Under fp8 (NVFP4) training MFU is of the fp8 (fp4) peak, the GEMMs' precision's; the same work on
// the bf16 peak beside it, the figure a bf16 run of the same model reports.
std::string fp8_mfu_text(const SimulationResult& r) {
  const GpuSpec& g = r.scenario.cluster.gpu;
  const double peak = precision_peak_flops_per_s(g, r.scenario.training.precision);
  if (!r.scenario.training.quantized() || peak == g.peak_bf16_flops_per_s || g.peak_bf16_flops_per_s <= 0) return "";
  return std::string(" of the ") + (r.scenario.training.precision == Precision::NVFP4 ? "fp4" : "fp8") + " peak (" +
         f("%.1f%%", 100 * r.step->mfu * peak / g.peak_bf16_flops_per_s) + " of the bf16 peak)";
}

}  // namespace

std::string format_result(const SimulationResult& r) {
  std::string o;
  const AttentionMetrics& a = r.attention;
  if (r.step) {
    const StepMetrics& s = *r.step;
    o += "step:      " + f("%.3f s", s.time_s) + ", " + f("%.0f tokens/s", s.tokens_per_s) + " (" +
         f("%.1f", s.tokens_per_s_per_gpu) + " per GPU), MFU " + f("%.1f%%", 100 * s.mfu) + fp8_mfu_text(r) +
         (r.memory.fits ? "" : "  (DOES NOT FIT in GPU memory: see memory)") + "\n";
    o += "band:      " + f("%.3f", r.uncertainty.time_s.first) + " .. " + f("%.3f s", r.uncertainty.time_s.second) +
         band_text(r.uncertainty) + "\n";
    o += "           per micro batch: forward " + f("%.1f ms", 1e3 * s.composed.microbatch_forward_s) + ", backward " +
         f("%.1f ms", 1e3 * s.composed.microbatch_backward_s) +
         (r.scenario.parallel.fsdp_sharded()
              ? "; Megatron-FSDP's gathers and reduce-scatters within them, optimizer (with the non-layer gather) "
              : "; DP sync exposed " +
                    f("%.1f ms", 1e3 * (s.composed.grad_reduce_exposed_s + s.composed.param_gather_exposed_s)) +
                    // With a pipeline, the parameters' gather waits inside its schedule (the pipeline's
                    // time below holds it); the gradients' sync follows the schedule.
                    (s.inputs.pipeline.stages > 1 && s.composed.param_gather_exposed_s > 0
                         ? " (the parameters' gather " + f("%.1f ms", 1e3 * s.composed.param_gather_exposed_s) +
                               " of it inside the pipeline's time)"
                         : std::string()) +
                    ", optimizer ") +
         f("%.1f ms", 1e3 * s.composed.optimizer_s) + "\n";
    o += host_text(s, r.scenario.cluster.gpu.name);
    if (s.inputs.pipeline.stages > 1) {
      const PipelineSpec& ps = s.inputs.pipeline;
      double send = 0;
      for (const StageInputs& st : s.inputs.stages) send = std::max({send, st.send_forward_s, st.send_backward_s});
      o += "pipeline:  " + std::string(ps.interleaved() ? "interleaved 1F1B, " : "1F1B, ") + std::to_string(ps.stages) +
           " stages" + (ps.interleaved() ? " x " + std::to_string(ps.virtual_stages) + " virtual" : "") + ", " +
           std::to_string(s.inputs.microbatches) + " micro batches: " + f("%.3f s", s.composed.pipeline_s) + ", bubble " +
           f("%.1f%%", 100 * s.composed.bubble_fraction) + " (of the schedule alone, without the CPU's launches)" +
           "; stage-to-stage transfer up to " + f("%.2f ms", 1e3 * send) +
           (ps.overlapped() ? " (overlapped)" : " (blocking)") + "\n";
    }
  }
  o += "layer:     forward " + f("%.2f ms", 1e3 * r.layer.forward_s) + ", backward " +
       f("%.2f ms", 1e3 * r.layer.backward_s) + " (slowest rank)" + (r.step ? "" : band_text(r.uncertainty)) + "\n";
  o += "attention: forward " + f("%.2f ms", 1e3 * a.forward_s) + ", backward " + f("%.2f ms", 1e3 * a.backward_s) +
       " on rank " + std::to_string(a.rank) + "; CP comm " + f("%.2f ms", 1e3 * a.comm_s) + ", exposed " +
       f("%.2f ms", 1e3 * a.exposed_comm_s) + " (overlap " + f("%.0f%%", 100 * a.overlap_ratio) + ")\n";
  const MemoryEstimate& m = r.memory;
  const int gb_digits = m.expandable_segments ? 2 : 1;  // the expandable margin is a quarter of a GB
  o += "memory:    peak " + f("%.1f GB", m.peak_bytes / 1e9) + " of " + f("%.1f GB", m.capacity_bytes / 1e9) +
       ", headroom " + strprintf("%.*f GB", gb_digits, m.headroom_bytes / 1e9) + (m.fits ? "" : "  DOES NOT FIT") +
       (!m.within_allocator_margin ? ""
        : m.stage_peak_bytes.empty()
            ? strprintf("  (less than the allocator's margin, %.*f GB: it may run out)", gb_digits, m.allocator_margin_bytes / 1e9)
            : "  (stage " + std::to_string(m.allocator_margin_stage) +
                  strprintf(": %.*f GB, ", gb_digits, m.allocator_stage_headroom_bytes / 1e9) +
                  strprintf("less than the allocator's margin, %.*f GB: it may run out)", gb_digits,
                    m.allocator_margin_bytes / 1e9)) +
       " (peak in " +
       m.peak_phase + ")" +
       (r.scenario.workload == WorkloadKind::Step ? "" : " (the whole training step's: the estimate is the step's, whatever the workload)") +
       "\n";
  if (!r.links.empty()) {
    o += "links:     busiest during the layer:";
    int shown = 0;
    for (const LinkUse& l : r.links) {
      if (shown++ == 4) break;
      o += " " + l.name + " " + f("%.0f%%", 100 * l.utilisation);
    }
    o += "\n";
  }
  o += "simulated: " + r.simulated + "\n";
  o += "composed:  " + r.composed + "\n";
  o += "costs:     " + r.cost_source + "\n";
  return o;
}

}  // namespace hcpsim
