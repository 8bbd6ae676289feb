// Node types, from vendor datasheets. Compute rates are dense (no sparsity).
// Bandwidths are line rates per direction; what NCCL achieves on them is a
// calibration factor, not a preset. Latencies are end to end for a small
// message: GPU-to-GPU inside the node (intra) and through the fabric (inter).
// Memory is what the driver reports as the card's total (nvidia-smi "MiB" x
// 2^20), since the datasheets' "80GB" is really 80 GiB; where no such reading
// is public, the datasheet's GB.
#include "scenario/presets.hpp"

#include "common/si_prefixes.hpp"

namespace hcpsim {

namespace {

constexpr double kGbitToBytes = 1e9 / 8;  // 400 Gb/s = 50 GB/s; 800 Gb/s = 100 GB/s
constexpr double kMiB = 1048576.0;

// `sm`: compute capability x 10 (CUDA's table of GPUs: Ampere A100 8.0, Ada 8.9, Hopper 9.0, Blackwell 10.0,
// Blackwell Ultra B300 10.3); `sms`, `clock_mhz`: SM count and the SM clock the bf16 peak is quoted at (peak =
// SMs x clock x dense bf16 FLOP per clock per SM: H100 132 x 1830 MHz x 4096 = 989 TFLOP/s; B200 148 x 1850 x
// 8192 = 2.25 PFLOP/s, FlashAttention-4 paper; A100 108 x 1410 x 2048 = 312; L40S 142 x 2520 x 1024 = 366).
// For B300 no clock is published: it is derived from the peak, clock = peak / (SMs x 8192).
GpuSpec gpu(const char* name, double bf16_tflops, double fp8_tflops, double memory_bytes, double hbm_GBps, int64_t sm,
            int64_t sms, double clock_mhz, double fp4_tflops = 0) {
  return {name, bf16_tflops * kTera, fp8_tflops * kTera, memory_bytes, hbm_GBps * kGiga, sm, sms, clock_mhz,
          fp4_tflops * kTera};
}

ClusterSpec node(const char* preset, int64_t gpus, GpuSpec g, IntraNodeKind kind, double intra_GBps,
                 double intra_latency_us, int64_t nics, double nic_Gbit, double inter_latency_us, bool rails) {
  ClusterSpec c;
  c.preset = preset;
  c.num_nodes = 1;
  c.gpus_per_node = gpus;
  c.gpu = g;
  c.intra_node = {kind, intra_GBps * kGiga, intra_latency_us * kMicro};
  c.inter_node = {nics, nic_Gbit * kGbitToBytes, inter_latency_us * kMicro, rails, 1.0};
  return c;
}

// Host link per GPU per direction, achievable (what a pinned cudaMemcpy moves): PCIe Gen5 x16, 55 GB/s
// (55.4 host to device, 55.1 back, measured on 8 x H200 by stas00/ml-engineering, network/README.md, of
// the 63 GB/s line rate: 0.88); PCIe Gen4 x16 at that efficiency, 0.88 x 32 = 28 GB/s; a Grace-Blackwell
// superchip's NVLink-C2C, 900 GB/s both ways for its one Grace and two GPUs: 225 GB/s a GPU a direction,
// at the 0.82 of 450 that a DGX Station GB300 (one GPU a Grace) measured (359-377 GB/s, ibid.): 184 GB/s.
constexpr double kPcie5HostGBps = 55, kPcie4HostGBps = 28, kGraceC2cHostGBps = 184;

ClusterSpec with_host_link(ClusterSpec c, double GBps) {
  c.host_link_bytes_per_s = GBps * kGiga;
  return c;
}

std::vector<ClusterPreset> make_cluster_presets() {
  // H100/H200 SXM: 989 TFLOP/s bf16 and 1979 fp8 dense; NVLink4 900 GB/s bidirectional.
  // nvidia-smi totals: H100 80GB 81559 MiB; H200 143771 MiB (read on this project's lent H200).
  const GpuSpec h100 = gpu("H100-SXM-80GB", 989, 1979, 81559 * kMiB, 3350, 90, 132, 1830);
  const GpuSpec h200 = gpu("H200-SXM-141GB", 989, 1979, 143771 * kMiB, 4800, 90, 132, 1830);
  // B200 in DGX B200: 72 PFLOP/s fp8 training per 8 GPUs (sparse) -> 4.5 dense fp8, 2.25 bf16; 1440 GB / 8; 64 TB/s / 8.
  // Dense fp4 (NVFP4) of each Blackwell: ml-engineering's accelerator table (compute/accelerator, 744d01e, from
  // the DGX B200 / DGX B300 datasheets and the GB200 / GB300 NVL72 specifications): B200 9, GB200 10, B300 12.6,
  // GB300 15 PFLOP/s.
  const GpuSpec b200 = gpu("B200-180GB", 2250, 4500, 180 * kGiga, 8000, 100, 148, 1850, 9000);
  // GB200 NVL72: 360 PFLOP/s bf16 (sparse) / 72 -> 2.5 dense; 13.4 TB HBM3e / 72; 576 TB/s / 72.
  const GpuSpec gb200 = gpu("B200-in-GB200-186GB", 2500, 5000, 186 * kGiga, 8000, 100, 148, 2062, 10000);
  // B300 (Blackwell Ultra, sm_103) in HGX/DGX B300: 36 PFLOP/s bf16 and 72 fp8 per 8 GPUs (sparse) -> 2.25 and
  // 4.5 dense per GPU; 270 GB HBM3e and 7.7 TB/s per GPU (datasheet; 288 GB and 8 TB/s are the chip's maxima);
  // 148 SMs exposed (160 on the full die); clock derived: 2250e12 / (148 x 8192) = 1856 MHz. The name carries
  // the token "B300" so src/cost/roofline.cpp's B300 figures apply.
  const GpuSpec b300 = gpu("B300-SXM6-270GB", 2250, 4500, 270 * kGiga, 7700, 103, 148, 1856, 12600);
  // GB300 NVL72: 360 PFLOP/s bf16 and 720 fp8 per rack (sparse) / 72 / 2 -> 2.5 and 5 dense; 279 GB HBM3e per
  // GPU (20 TB per rack; 288 GB chip max), 8 TB/s; SMs assumed equal to B300's 148; clock derived: 2500e12 /
  // (148 x 8192) = 2062 MHz. The name carries "GB300" so roofline.cpp's GB300 figures apply.
  const GpuSpec gb300 = gpu("B300-in-GB300-279GB", 2500, 5000, 279 * kGiga, 8000, 103, 148, 2062, 15000);
  const GpuSpec a100 = gpu("A100-SXM4-80GB", 312, 0, 81920 * kMiB, 2039, 80, 108, 1410);  // no fp8 tensor cores
  const GpuSpec h800 = gpu("H800-SXM-80GB", 989, 1979, 81559 * kMiB, 3350, 90, 132, 1830);
  const GpuSpec l40s = gpu("L40S-48GB", 362, 733, 46068 * kMiB, 864, 89, 142, 2520);

  return {
      {"dgx-h100", with_host_link(node("dgx-h100", 8, h100, IntraNodeKind::NVSwitch, 450, 2, 8, 400, 5, true), kPcie5HostGBps),
       "NVIDIA H100 Tensor Core GPU datasheet (SXM5); DGX H100 user guide: 4 NVSwitch, 8x ConnectX-7 400 Gb/s "
       "compute NICs, one per GPU; DGX BasePOD reference architecture (rail-optimized fabric). Max power 10.2 kW: "
       "DGX H100/H200 user guide, https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html",
       10.2 * kKilo},
      {"dgx-h200", with_host_link(node("dgx-h200", 8, h200, IntraNodeKind::NVSwitch, 450, 2, 8, 400, 5, true), kPcie5HostGBps),
       "NVIDIA H200 Tensor Core GPU datasheet (141 GB HBM3e, 4.8 TB/s); DGX H200 user guide (same NVLink4 and "
       "8x ConnectX-7 400 Gb/s as DGX H100). Max power 10.2 kW: DGX H100/H200 user guide, "
       "https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html",
       10.2 * kKilo},
      {"dgx-b200", with_host_link(node("dgx-b200", 8, b200, IntraNodeKind::NVSwitch, 900, 2, 8, 400, 5, true), kPcie5HostGBps),
       "NVIDIA DGX B200 datasheet: 8x B200, 1440 GB HBM3e, 64 TB/s, 72 PFLOP/s fp8 training, NVLink5 1.8 TB/s "
       "per GPU bidirectional, 8x ConnectX-7 400 Gb/s. Max power 14.3 kW: DGX B200 user guide, "
       "https://docs.nvidia.com/dgx/dgxb200-user-guide/introduction-to-dgxb200.html",
       14.3 * kKilo},
      {"gb200-nvl72", with_host_link(node("gb200-nvl72", 72, gb200, IntraNodeKind::NVLDomain, 900, 3, 72, 400, 5, true), kGraceC2cHostGBps),
       "NVIDIA GB200 NVL72 datasheet: 72 GPUs in one NVLink5 domain (130 TB/s), 13.4 TB HBM3e, 576 TB/s, "
       "360 PFLOP/s bf16 sparse; one ConnectX-7 400 Gb/s NIC per GPU. One hcpsim 'node' = one NVL72 rack. "
       "Rack power ~132 kW: no NVIDIA datasheet maximum; ~120 kW reported at GTC 2024 (ServeTheHome), 132 kW "
       "quoted for OEM (Supermicro) racks; NVIDIA's DGX SuperPOD GB200 RA budgets 1.2 MW per 8-rack unit, "
       "https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-gb200/latest/"
       "dgx-superpod-architecture.html",
       132 * kKilo},
      {"dgx-b300", with_host_link(node("dgx-b300", 8, b300, IntraNodeKind::NVSwitch, 900, 2, 8, 800, 5, true), kPcie5HostGBps),
       "NVIDIA HGX/DGX B300 and Blackwell Ultra datasheet: 8x B300 (sm_103), 2.25 PFLOP/s bf16 and 4.5 fp8 dense "
       "per GPU, 270 GB HBM3e and 7.7 TB/s per GPU (288 GB, 8 TB/s: the chip's maxima), NVLink5 1.8 TB/s per GPU "
       "bidirectional, 8x ConnectX-8 SuperNIC 800 Gb/s, one per GPU, rail-optimized; 148 SMs, SM clock derived "
       "from the peak; GPU up to 1100 W. Max power ~14 kW: DGX B300 user guide, https://docs.nvidia.com/dgx/"
       "dgxb300-user-guide/introduction-to-dgxb300.html (~56 kW per rack of four in the DGX SuperPOD B300 RA). "
       "https://www.nvidia.com/en-us/data-center/hgx/ https://www.nvidia.com/en-us/data-center/dgx-b300/ "
       "https://resources.nvidia.com/en-us-blackwell-architecture/blackwell-ultra-datasheet "
       "https://developer.nvidia.com/blog/inside-nvidia-blackwell-ultra-the-chip-powering-the-ai-factory-era/",
       14 * kKilo},
      {"gb300-nvl72", with_host_link(node("gb300-nvl72", 72, gb300, IntraNodeKind::NVLDomain, 900, 3, 72, 800, 5, true), kGraceC2cHostGBps),
       "NVIDIA GB300 NVL72: 72 B300 (sm_103) in one NVLink5 domain (130 TB/s, 1.8 TB/s per GPU bidirectional), "
       "360 PFLOP/s bf16 and 720 fp8 sparse per rack, 279 GB HBM3e per GPU (20 TB per rack), 8 TB/s per GPU; 72 "
       "ConnectX-8 SuperNIC 800 Gb/s, one per GPU; SMs assumed equal to B300's 148, SM clock derived from the "
       "peak; GPU up to 1400 W. One hcpsim 'node' = one NVL72 rack. Rack power up to 142 kW: NVL72 AI factory "
       "RA, https://docs.nvidia.com/enterprise-reference-architectures/nvl72-ai-factory/latest/components.html. "
       "https://www.nvidia.com/en-us/data-center/gb300-nvl72/",
       142 * kKilo},
      {"dgx-a100", with_host_link(node("dgx-a100", 8, a100, IntraNodeKind::NVSwitch, 300, 2, 8, 200, 5, true), kPcie4HostGBps),
       "NVIDIA A100 datasheet (SXM4 80GB: 312 TFLOP/s bf16, 2039 GB/s); DGX A100 user guide: NVLink3 600 GB/s "
       "bidirectional, 8x ConnectX-6 HDR 200 Gb/s. Max power 6.5 kW: DGX A100 user guide, "
       "https://docs.nvidia.com/dgx/dgxa100-user-guide/introduction-to-dgxa100.html",
       6.5 * kKilo},
      {"hgx-h800", with_host_link(node("hgx-h800", 8, h800, IntraNodeKind::NVSwitch, 200, 2, 8, 400, 5, true), kPcie5HostGBps),
       "NVIDIA H800 SXM: H100 compute with NVLink cut to 400 GB/s bidirectional; DeepSeek-V3 technical report "
       "(arXiv 2412.19437) section 3.2: 8x 400 Gb/s InfiniBand per node, one per GPU. Max power 10.2 kW "
       "assumed: DGX H100's figure (no published figure for H800 servers)",
       10.2 * kKilo},
      {"l40s-pcie", with_host_link(node("l40s-pcie", 8, l40s, IntraNodeKind::PCIe, 32, 5, 4, 200, 6, false), kPcie4HostGBps),
       "NVIDIA L40S datasheet (362 TFLOP/s bf16 dense, 48 GB GDDR6, 864 GB/s, PCIe Gen4 x16 = 32 GB/s per "
       "direction, no NVLink). Network assumed: 4x 200 Gb/s NICs per node, not rail-optimized; override inter_node "
       "to match your servers. Max power ~4.3 kW is an estimate: 8x 350 W (L40S datasheet) + ~1.5 kW host",
       4.3 * kKilo},
  };
}

}  // namespace

const std::vector<ClusterPreset>& cluster_presets() {
  static const std::vector<ClusterPreset> presets = make_cluster_presets();
  return presets;
}

const ClusterPreset* find_cluster_preset(std::string_view name) {
  for (const auto& p : cluster_presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> cluster_preset_names() {
  std::vector<std::string> n;
  for (const auto& p : cluster_presets()) n.push_back(p.name);
  return n;
}

}  // namespace hcpsim
