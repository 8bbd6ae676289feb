// Every validation rule (issue 2, docs/cp-transports.md §5, §7, §8, §9) rejects its
// case with its own message and accepts the nearest valid neighbour.
#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"
#include "tests/scenario/parse_outcome.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

// Seed option C: Llama-3.1-8B (32 heads, 8 KV heads), 128K, TP1 x CP16 p2p on
// 4 x DGX-H100 (32 GPUs, so DP = 2), global batch 8 = 4 micro batches x DP 2.
json base() {
  return json::parse(R"({
    "name": "base",
    "model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 131072, "micro_batch_size": 1, "global_batch_size": 8},
    "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 16, "cp_comm_type": "p2p"},
    "cluster": {"preset": "dgx-h100", "num_nodes": 4},
    "software": {"transformer_engine_version": "2.18.0"}
  })");
}

using test::Outcome;
using test::describe;

Outcome parse(const std::string& text) { return test::parse(json(text)); }
Outcome parse(const json& j) { return test::parse(j); }

bool has_error(const Outcome& o, const std::string& path, const std::string& rule_part) {
  for (const auto& d : o.errors)
    if (d.path == path && d.rule.find(rule_part) != std::string::npos) return true;
  return false;
}

// TP x CP with sequence parallelism (or not) and tp_comm_overlap on, over base()'s 32 GPUs.
void tp_overlap(json& j, int tp, int cp, bool sp = true) {
  j["parallel"]["tensor_model_parallel_size"] = tp;
  j["parallel"]["context_parallel_size"] = cp;
  j["parallel"]["sequence_parallel"] = sp;
  j["parallel"]["tp_comm_overlap"] = true;
}

// One GB200 NVL72 rack, TP 8 x CP 9 with the overlap, under Transformer Engine `te`.
void nvl72_tp8_overlap(json& j, const char* te) {
  j["cluster"] = {{"preset", "gb200-nvl72"}, {"num_nodes", 1}};
  j["software"]["transformer_engine_version"] = te;
  tp_overlap(j, 8, 9);
  j["training"]["seq_length"] = 147456;  // 18 x 8192: divisible by 2 CP and by CP x TP
  j["training"]["global_batch_size"] = 1;
}

struct Rule {
  const char* name;
  std::function<void(json&)> violate;    // applied to base()
  std::string path;                      // expected error path
  std::string rule_part;                 // substring of the expected rule text
  std::function<void(json&)> neighbour;  // applied to base(): the nearest valid case
};

}  // namespace

TEST_CASE("the base scenario is valid and derives DP and micro batches", "[model][validate]") {
  const Outcome o = parse(base());
  INFO(describe(o));
  REQUIRE(o.valid);
  CHECK(o.scenario.parallel.data_parallel_size == 2);  // 32 GPUs / (TP1*CP16)
  CHECK(o.scenario.num_microbatches() == 4);           // 8 / (1 * 2)
  CHECK(o.scenario.model.num_query_groups == 8);
  CHECK(o.scenario.cluster.gpu.memory_bytes == 81559.0 * 1048576);  // nvidia-smi total of an H100 80GB
  CHECK(o.scenario.cluster.inter_node.nic_bandwidth_bytes_per_s == 50e9);  // 400 Gb/s
}

TEST_CASE("every rule rejects its case and accepts its nearest valid neighbour", "[model][validate]") {
  const std::vector<Rule> rules = {
      {"hcpsim's kernels only on Hopper",  // built for sm_90a alone (kernels/CMakeLists.txt)
       [](json& j) {
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
         j["software"]["attention_backend"] = "hcpsim";
       },
       "software.attention_backend", "built for sm_90a",
       [](json& j) { j["software"]["attention_backend"] = "hcpsim"; }},  // on the base's H100s
      {"CUDA graphs by Megatron's names",
       [](json& j) { j["software"]["cuda_graph_impl"] = "full"; },
       "software.cuda_graph_impl", "must be one of none, local, transformer_engine, or full_iteration",
       [](json& j) { j["software"]["cuda_graph_impl"] = "full_iteration"; }},
      {"fp8 recipes hcpsim models",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_recipe"] = "blockwise";
       },
       "training.fp8_recipe", "must be one of delayed, tensorwise, or mxfp8",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_recipe"] = "tensorwise";
       }},
      {"MXFP8 only on Blackwell",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_recipe"] = "mxfp8";  // on the base's H100s
       },
       "training.fp8_recipe", "compute capability 10.x and 11.x alone",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_recipe"] = "mxfp8";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       }},
      {"NVFP4 only on Blackwell",
       [](json& j) { j["training"]["precision"] = "nvfp4"; },  // on the base's H100s
       "training.precision", "compute capability 10.0 and newer",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       }},
      {"NVFP4 on the GPU's fp4 peak",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}, {"gpu", {{"peak_fp4_tflops", 0}}}};
       },
       "cluster.gpu.peak_fp4_tflops", "dense fp4 tensor-core peak",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}, {"gpu", {{"peak_fp4_tflops", 9000}}}};
       }},
      {"NVFP4 needs Transformer Engine 2.7",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
         j["software"]["transformer_engine_version"] = "2.6.0";
       },
       "software.transformer_engine_version", "2.7 or newer",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
         j["software"]["transformer_engine_version"] = "2.7.0";
       }},
      {"NVFP4 primary weights only under NVFP4",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp4_param_gather"] = true;
       },
       "training.fp4_param_gather", "needs --fp4-format",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_param_gather"] = true;
       }},
      {"fp8 primary weights not under NVFP4",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["training"]["fp8_param_gather"] = true;
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       },
       "training.fp8_param_gather", "needs --fp8-format",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["training"]["fp4_param_gather"] = true;
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       }},
      {"quantized primary weights need the distributed optimizer",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_param_gather"] = true;
         j["parallel"]["use_distributed_optimizer"] = false;
       },
       "training.fp8_param_gather", "needs the distributed optimizer",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["training"]["fp8_param_gather"] = true;
       }},
      {"NVFP4 primary weights need the distributed optimizer",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["training"]["fp4_param_gather"] = true;
         j["parallel"]["use_distributed_optimizer"] = false;
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       },
       "training.fp4_param_gather", "distributed optimizer",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["training"]["fp4_param_gather"] = true;
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       }},
      // Megatron's arguments.py asserts both; unset, overlap_param_gather follows (the neighbours).
      {"the parameter gather overlaps only beside the bucketed gradient reduce",
       [](json& j) {
         j["parallel"]["overlap_grad_reduce"] = false;
         j["parallel"]["overlap_param_gather"] = true;
       },
       "parallel.overlap_param_gather", "needs --overlap-grad-reduce and the distributed optimizer",
       [](json& j) { j["parallel"]["overlap_grad_reduce"] = false; }},
      {"the parameter gather overlaps only where the distributed optimizer gathers",
       [](json& j) {
         j["parallel"]["use_distributed_optimizer"] = false;
         j["parallel"]["overlap_param_gather"] = true;
       },
       "parallel.overlap_param_gather", "without the optimizer no parameters are gathered",
       [](json& j) { j["parallel"]["use_distributed_optimizer"] = false; }},
      {"a renamed GPU given its bf16 peak keeps no preset fp8 peak",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["cluster"]["gpu"] = {{"name", "MyHopper"}, {"peak_bf16_tflops", 989}};
       },
       "training.precision", "peak_fp8_tflops > 0",
       [](json& j) {
         j["training"]["precision"] = "fp8";
         j["cluster"]["gpu"] = {{"name", "MyHopper"}, {"peak_bf16_tflops", 989}, {"peak_fp8_tflops", 1979}};
       }},
      {"a renamed GPU given its other peaks keeps no preset fp4 peak",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4},
                         {"gpu", {{"name", "MyBlackwell"}, {"peak_bf16_tflops", 2250}, {"peak_fp8_tflops", 4500}}}};
       },
       "cluster.gpu.peak_fp4_tflops", "dense fp4 tensor-core peak",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4},
                         {"gpu", {{"name", "MyBlackwell"}, {"peak_bf16_tflops", 2250}, {"peak_fp8_tflops", 4500},
                                  {"peak_fp4_tflops", 9000}}}};
       }},
      {"no fp8 recipe under NVFP4",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["training"]["fp8_recipe"] = "mxfp8";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       },
       "training.fp8_recipe", "applies with --fp8-format",
       [](json& j) {
         j["training"]["precision"] = "nvfp4";
         j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
       }},
      {"world size divisible by TP*CP*PP",
       [](json& j) { j["cluster"]["num_nodes"] = 3; },  // 24 GPUs, CP16
       "parallel", "world_size % (TP*CP*PP) == 0", [](json& j) { j["cluster"]["num_nodes"] = 2; }},
      {"attention heads divisible by TP",
       [](json& j) {
         j["model"]["num_attention_heads"] = 30;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 30 is no head dim
         j["model"]["num_query_groups"] = 6;
         j["parallel"]["tensor_model_parallel_size"] = 4;
         j["parallel"]["context_parallel_size"] = 8;
       },
       "parallel.tensor_model_parallel_size", "num_attention_heads % TP == 0",
       [](json& j) {
         j["model"]["num_attention_heads"] = 30;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 30 is no head dim
         j["model"]["num_query_groups"] = 6;
         j["parallel"]["tensor_model_parallel_size"] = 2;
         j["parallel"]["context_parallel_size"] = 8;
       }},
      {"query groups divisible by TP",
       [](json& j) {
         j["model"]["num_attention_heads"] = 36;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 36 is no head dim
         j["model"]["num_query_groups"] = 6;
         j["parallel"]["tensor_model_parallel_size"] = 4;
         j["parallel"]["context_parallel_size"] = 8;
       },
       "parallel.tensor_model_parallel_size", "num_query_groups % TP == 0",
       [](json& j) {
         j["model"]["num_attention_heads"] = 36;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 36 is no head dim
         j["model"]["num_query_groups"] = 6;
         j["parallel"]["tensor_model_parallel_size"] = 2;
         j["parallel"]["context_parallel_size"] = 8;
       }},
      {"seq_length divisible by 2*CP",
       [](json& j) { j["training"]["seq_length"] = 131000; },  // 131000 % 32 = 24
       "training.seq_length", "seq_length % (2*CP) == 0", [](json& j) { j["training"]["seq_length"] = 131008; }},
      {"sequence parallel: (seq/CP) divisible by TP",
       [](json& j) {
         // 131080 % (2*4) == 0 but 131080/4 = 32770, and 32770 % 4 = 2.
         j["training"]["seq_length"] = 131080;
         j["parallel"]["tensor_model_parallel_size"] = 4;
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["sequence_parallel"] = true;
       },
       "parallel.sequence_parallel", "(seq_length/CP) % TP == 0",
       [](json& j) {
         j["training"]["seq_length"] = 131072;
         j["parallel"]["tensor_model_parallel_size"] = 4;
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["sequence_parallel"] = true;
       }},
      {"global batch divisible by micro batch * DP",
       [](json& j) { j["training"]["global_batch_size"] = 7; },  // DP = 2
       "training.global_batch_size", "global_batch_size % (micro_batch_size * DP) == 0",
       [](json& j) { j["training"]["global_batch_size"] = 6; }},
      {"a2a: heads/TP divisible by CP",
       [](json& j) {
         j["model"]["num_attention_heads"] = 36;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 36 is no head dim
         j["model"]["num_query_groups"] = 12;
         j["parallel"]["context_parallel_size"] = 8;
         j["parallel"]["cp_comm_type"] = "a2a";
       },
       "parallel.context_parallel_size", "(num_attention_heads/TP) % CP == 0",
       [](json& j) {
         j["model"]["num_attention_heads"] = 36;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 36 is no head dim
         j["model"]["num_query_groups"] = 12;
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["cp_comm_type"] = "a2a";
       }},
      {"a2a: query groups/TP divisible by CP",
       [](json& j) { j["parallel"]["cp_comm_type"] = "a2a"; },  // 8 KV heads, CP16
       "parallel.context_parallel_size", "(num_query_groups/TP) % CP == 0",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a";
         j["parallel"]["context_parallel_size"] = 8;
       }},
      {"a2a with KV heads replicated by TP > query groups",
       [](json& j) {
         j["cluster"]["preset"] = "gb200-nvl72";  // 72 GPUs per node
         j["cluster"]["num_nodes"] = 1;
         j["training"]["seq_length"] = 131072;
         j["parallel"]["tensor_model_parallel_size"] = 16;  // > 8 groups: one replicated KV head per rank
         j["parallel"]["context_parallel_size"] = 2;
         j["parallel"]["cp_comm_type"] = "a2a";
         j["training"]["global_batch_size"] = 2;  // 64 GPUs / (TP16 x CP2) = DP 2
         j["cluster"]["gpus_per_node"] = 64;
         j["cluster"]["inter_node"]["nics_per_node"] = 64;
       },
       "parallel.cp_comm_type", "(num_query_groups/TP) % CP == 0",
       [](json& j) {
         j["cluster"]["preset"] = "gb200-nvl72";
         j["cluster"]["num_nodes"] = 1;
         j["cluster"]["gpus_per_node"] = 64;
         j["cluster"]["inter_node"]["nics_per_node"] = 64;
         j["parallel"]["tensor_model_parallel_size"] = 16;
         j["parallel"]["context_parallel_size"] = 2;
         j["parallel"]["cp_comm_type"] = "p2p";
         j["training"]["global_batch_size"] = 2;
       }},
      {"a2a+p2p needs hierarchical sizes",
       [](json& j) { j["parallel"]["cp_comm_type"] = "a2a+p2p"; }, "parallel.hierarchical_context_parallel_sizes",
       "needs hierarchical_context_parallel_sizes",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
       }},
      {"a2a+p2p sizes multiply to CP",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 4};
       },
       "parallel.hierarchical_context_parallel_sizes", "prod(hierarchical_context_parallel_sizes) == CP",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {4, 4};
       }},
      {"a2a+p2p takes exactly two sizes",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {2, 2, 4};
       },
       "parallel.hierarchical_context_parallel_sizes", "exactly two groups",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {2, 8};
       }},
      {"a2a+p2p: KV heads/TP divisible by the inner size",
       [](json& j) {
         j["parallel"]["tensor_model_parallel_size"] = 2;  // 4 KV heads per TP rank
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
         j["cluster"]["num_nodes"] = 4;  // 32 = TP2 x CP16
         j["training"]["global_batch_size"] = 1;
       },
       "parallel.hierarchical_context_parallel_sizes[0]", "(num_query_groups/TP) % sizes[0] == 0",
       [](json& j) {
         j["parallel"]["tensor_model_parallel_size"] = 2;
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {4, 4};
         j["training"]["global_batch_size"] = 1;
       }},
      {"a2a+p2p: heads/TP divisible by the inner size",
       [](json& j) {
         j["model"]["num_attention_heads"] = 36;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 36 is no head dim
         j["model"]["num_query_groups"] = 36;
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
       },
       "parallel.hierarchical_context_parallel_sizes[0]", "(num_attention_heads/TP) % sizes[0] == 0",
       [](json& j) {
         j["model"]["num_attention_heads"] = 36;
         j["model"]["kv_channels"] = 128;  // given: 4096 / 36 is no head dim
         j["model"]["num_query_groups"] = 36;
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {4, 4};
       }},
      {"a2a+p2p needs TE >= 1.12",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
         j["software"]["transformer_engine_version"] = "1.11.0";
       },
       "software.transformer_engine_version", "TE >= 1.12.0",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
         j["software"]["transformer_engine_version"] = "1.12";
       }},
      {"a2a+p2p needs the MPU path (use_decentralized_pg false)",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
         j["software"]["use_decentralized_pg"] = true;
       },
       "software.use_decentralized_pg", "MPU initialisation path",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
         j["software"]["use_decentralized_pg"] = false;
       }},
      {"a2a needs TE >= 1.11",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a";
         j["parallel"]["context_parallel_size"] = 8;
         j["software"]["transformer_engine_version"] = "1.10.0";
       },
       "software.transformer_engine_version", "TE >= 1.11.0",
       [](json& j) {
         j["parallel"]["cp_comm_type"] = "a2a";
         j["parallel"]["context_parallel_size"] = 8;
         j["software"]["transformer_engine_version"] = "1.11.0";
       }},
      {"allgather is not a TE comm type",
       [](json& j) { j["parallel"]["cp_comm_type"] = "allgather"; }, "parallel.cp_comm_type", "must be one of",
       [](json& j) { j["parallel"]["cp_comm_type"] = "all_gather"; }},
      {"sliding window only with a2a or all_gather",
       [](json& j) {
         j["model"]["preset"] = "mistral-7b";  // sliding_window 4096
         j["parallel"]["context_parallel_size"] = 8;
       },
       "parallel.cp_comm_type", "only with a2a and all_gather",
       [](json& j) {
         j["model"]["preset"] = "mistral-7b";
         j["parallel"]["context_parallel_size"] = 8;
         j["parallel"]["cp_comm_type"] = "a2a";
       }},
      // Pipeline rules (rules/pipeline.hpp, Megatron's arguments.py and schedules.py). CP 4 leaves
      // 32 / 4 = 8 GPUs for PP x DP; Llama-3.1-8B has 32 layers.
      {"layers (with the accounted embedding) split evenly over stages",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["account_for_embedding_in_pipeline_split"] = true;  // 33 slots over 2 stages
       },
       "parallel.pipeline_model_parallel_size", "% pipeline_model_parallel_size == 0",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["account_for_embedding_in_pipeline_split"] = true;
         j["parallel"]["account_for_loss_in_pipeline_split"] = true;  // 34 slots: 17 per stage
       }},
      {"the interleaved schedule needs PP > 2 without overlap_p2p_comm",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
         j["parallel"]["overlap_p2p_comm"] = false;
       },
       "parallel.virtual_pipeline_model_parallel_size", "pipeline_model_parallel_size > 2",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
         // unset: Megatron's default with virtual stages, on. DP 4, 8 / 4 = 2 micro batches = one group of PP
       }},
      {"layers per stage split into virtual stages",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 3;  // 8 layers per stage
       },
       "parallel.virtual_pipeline_model_parallel_size", "layers per stage % virtual_pipeline_model_parallel_size",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;  // DP 2: 4 micro batches
       }},
      {"an uneven first stage leaves layers that split evenly",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["decoder_first_pipeline_num_layers"] = 6;  // 26 over 3 stages
       },
       "parallel.decoder_first_pipeline_num_layers", "divide evenly",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["decoder_first_pipeline_num_layers"] = 2;  // 30 over 3
       }},
      {"an uneven split leaves every middle stage a layer",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["decoder_first_pipeline_num_layers"] = 16;
         j["parallel"]["decoder_last_pipeline_num_layers"] = 16;  // 0 left for 2 middle stages
       },
       "parallel.decoder_first_pipeline_num_layers", "at least one each",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["decoder_first_pipeline_num_layers"] = 15;
         j["parallel"]["decoder_last_pipeline_num_layers"] = 15;  // 1 each
       }},
      {"interleaving needs at least PP micro batches",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
         j["training"]["global_batch_size"] = 4;  // DP 2: 2 micro batches < PP 4
       },
       "training.global_batch_size", "PP <= microbatch_group_size_per_vp_stage <= micro batches",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 4;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
         j["training"]["global_batch_size"] = 16;  // 8 micro batches: two groups of 4
       }},
      {"virtual stages need pipeline parallelism",
       [](json& j) { j["parallel"]["virtual_pipeline_model_parallel_size"] = 2; },
       "parallel.virtual_pipeline_model_parallel_size", "needs pipeline_model_parallel_size > 1",
       [](json& j) { j["parallel"]["virtual_pipeline_model_parallel_size"] = 1; }},
      {"micro-batch groups only with the interleaved schedule",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["microbatch_group_size_per_vp_stage"] = 2;
       },
       "parallel.microbatch_group_size_per_vp_stage", "only the interleaved schedule",
       [](json& j) {
         j["parallel"]["context_parallel_size"] = 4;
         j["parallel"]["pipeline_model_parallel_size"] = 2;
       }},
      {"fp8 needs fp8 tensor cores",
       [](json& j) {
         j["cluster"]["preset"] = "dgx-a100";
         j["training"]["precision"] = "fp8";
       },
       "training.precision", "peak_fp8_tflops > 0",
       [](json& j) {
         j["cluster"]["preset"] = "dgx-a100";
         j["training"]["precision"] = "bf16";
       }},
      {"NICs evenly shared by GPUs",
       [](json& j) { j["cluster"]["inter_node"]["nics_per_node"] = 3; }, "cluster.inter_node.nics_per_node",
       "gpus_per_node % nics_per_node == 0", [](json& j) { j["cluster"]["inter_node"]["nics_per_node"] = 4; }},
      {"an NVLink domain has at most 72 GPUs",
       [](json& j) {
         j["cluster"]["preset"] = "gb200-nvl72";
         j["cluster"]["gpus_per_node"] = 80;
         j["cluster"]["num_nodes"] = 1;
         j["cluster"]["inter_node"]["nics_per_node"] = 80;
         j["training"]["global_batch_size"] = 5;
       },
       "cluster.gpus_per_node", "at most 72 GPUs",
       [](json& j) {
         j["cluster"]["preset"] = "gb200-nvl72";
         j["cluster"]["gpus_per_node"] = 64;
         j["cluster"]["num_nodes"] = 1;
         j["cluster"]["inter_node"]["nics_per_node"] = 64;
         j["training"]["global_batch_size"] = 4;
       }},
      {"simulated world size is bounded",
       [](json& j) { j["cluster"]["num_nodes"] = 8192; }, "cluster.num_nodes", "GPUs are simulated",
       [](json& j) {
         j["cluster"]["num_nodes"] = 4096;  // 32768 GPUs, DP 2048
         j["training"]["global_batch_size"] = 2048;
       }},
      {"step workload runs forward and backward",
       [](json& j) { j["passes"] = "fwd"; }, "passes", "forward and backward",
       [](json& j) {
         j["passes"] = "fwd";
         j["workload"] = "attention";
       }},
      {"tp_comm_overlap needs sequence parallelism",
       [](json& j) { tp_overlap(j, 8, 2, false); }, "parallel.tp_comm_overlap", "--sequence-parallel",
       [](json& j) { tp_overlap(j, 8, 2); }},
      {"tp_comm_overlap inside one NVLink domain",
       [](json& j) { tp_overlap(j, 16, 2); },  // TP 16 over 2 nodes of 8
       "parallel.tp_comm_overlap", "one NVLink domain", [](json& j) { tp_overlap(j, 8, 4); }},
      {"tp_comm_overlap: no TP group across two nodes",
       [](json& j) {
         j["cluster"]["gpus_per_node"] = 6;  // 24 GPUs; TP 4: ranks 4-7 on nodes 0 and 1
         j["training"]["global_batch_size"] = 6;
         tp_overlap(j, 4, 2);
       },
       "parallel.tp_comm_overlap", "gpus_per_node % TP == 0",
       [](json& j) {
         j["cluster"]["gpus_per_node"] = 6;
         j["training"]["global_batch_size"] = 6;
         tp_overlap(j, 2, 2);
       }},
      {"tp_comm_overlap needs NVLink, not PCIe",
       [](json& j) {
         j["cluster"]["preset"] = "l40s-pcie";
         tp_overlap(j, 2, 8);
       },
       "parallel.tp_comm_overlap", "NVLink domain",
       [](json& j) {
         j["cluster"]["preset"] = "l40s-pcie";
         tp_overlap(j, 2, 8);
         j["parallel"]["tp_comm_overlap"] = false;
       }},
      {"ffn_hidden_size divisible by TP (Megatron splits the MLP's columns)",
       [](json& j) {
         j["model"]["ffn_hidden_size"] = 14343;  // odd: TP 2 would truncate each shard
         j["parallel"]["tensor_model_parallel_size"] = 2;
       },
       "parallel.tensor_model_parallel_size", "ffn_hidden_size % TP == 0",
       [](json& j) {
         j["model"]["ffn_hidden_size"] = 14344;
         j["parallel"]["tensor_model_parallel_size"] = 2;
       }},
      {"parameters within 64-bit counts",
       // 1024 layers of h = 2^20 and 65536 heads of 65536: QKV h (hq + 2 hk) d = 3 x 2^52 and the
       // projection 2^52 a layer, 2^54 x 1024 = 2^64 parameters. The neighbour: 100 layers of head
       // dim 16, 100 x (3 x 2^40 + 2^40 + 2^22) = 4.4e14.
       [](json& j) {
         j["model"] = {{"preset", "llama3.1-8b"}, {"num_layers", 1024}, {"hidden_size", 1048576},
                       {"ffn_hidden_size", 1}, {"num_attention_heads", 65536}, {"num_query_groups", 65536},
                       {"kv_channels", 65536}, {"vocab_size", 1}, {"gated_linear_unit", false}};
       },
       "model", "at most 1e15 parameters",
       [](json& j) {
         j["model"] = {{"preset", "llama3.1-8b"}, {"num_layers", 100}, {"hidden_size", 1048576},
                       {"ffn_hidden_size", 1}, {"num_attention_heads", 65536}, {"num_query_groups", 65536},
                       {"kv_channels", 16}, {"vocab_size", 1}, {"gated_linear_unit", false}};
       }},
      {"tp_comm_overlap on GPUs of more than twice userbuffers' 16 SMs",
       [](json& j) {
         tp_overlap(j, 8, 4);
         j["cluster"]["gpu"] = {{"name", "h100-32sm"}, {"peak_bf16_tflops", 989.4 * 32 / 132}, {"peak_fp8_tflops", 1978.9 * 32 / 132},
                                {"memory_gb", 80}, {"hbm_GBps", 3350}, {"sm_count", 32}, {"sm_clock_mhz", 1830}};
       },
       "parallel.tp_comm_overlap", "more than twice that",
       [](json& j) {
         tp_overlap(j, 8, 4);
         j["cluster"]["gpu"] = {{"name", "h100-33sm"}, {"peak_bf16_tflops", 989.4 * 33 / 132}, {"peak_fp8_tflops", 1978.9 * 33 / 132},
                                {"memory_gb", 80}, {"hbm_GBps", 3350}, {"sm_count", 33}, {"sm_clock_mhz", 1830}};
       }},
      {"micro batches a step x virtual stages <= 2^20",
       [](json& j) {  // PP 2 x CP 16 on 32 GPUs: DP 1, so 2^20 micro batches, over 2 virtual stages
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
         j["training"]["global_batch_size"] = 1 << 20;
       },
       "training.global_batch_size", "micro batches a step x virtual stages <= 1048576",
       [](json& j) {
         j["parallel"]["pipeline_model_parallel_size"] = 2;
         j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
         j["training"]["global_batch_size"] = 1 << 19;
       }},
      {"packed documents divide the sequence",
       [](json& j) { j["training"]["document_length"] = 3000; }, "training.document_length",
       "seq_length % document_length == 0", [](json& j) { j["training"]["document_length"] = 4096; }},
      {"packed documents split into 2*CP chunks each",  // base: CP 16, so 32 | D
       [](json& j) { j["training"]["document_length"] = 16; }, "training.document_length",
       "document_length % (2*CP) == 0", [](json& j) { j["training"]["document_length"] = 8192; }},
      {"packed documents with a2a+p2p only after TE 2.18",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_comm_type"] = "a2a+p2p";
         j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};
       },
       "parallel.cp_comm_type", "before 2.19",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_comm_type"] = "p2p";
       }},
      {"packed documents with all_gather not on FlashAttention 2",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_comm_type"] = "all_gather";
         j["software"]["attention_backend"] = "flash";
       },
       "software.attention_backend", "not FlashAttention 2",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_comm_type"] = "all_gather";
         j["software"]["attention_backend"] = "cudnn";
       }},
      {"unequal documents with all_gather not on FlashAttention 2",  // cuDNN runs them (one varlen launch a chunk)
       [](json& j) {
         j["training"]["document_lengths"] = {65536, 32768, 32768};
         j["parallel"]["cp_comm_type"] = "all_gather";
         j["software"]["attention_backend"] = "flash";
       },
       "software.attention_backend", "not FlashAttention 2",
       [](json& j) {
         j["training"]["document_lengths"] = {65536, 32768, 32768};
         j["parallel"]["cp_comm_type"] = "all_gather";
         j["software"]["attention_backend"] = "cudnn";
       }},
      {"unequal documents add up to one sequence",  // 65536 + 32768 + 32736 = 131040
       [](json& j) { j["training"]["document_lengths"] = {65536, 32768, 32736}; }, "training.document_lengths",
       "sum(document_lengths) == seq_length", [](json& j) { j["training"]["document_lengths"] = {65536, 32768, 32768}; }},
      {"unequal documents split into 2*CP chunks each",  // 32752 % 32 = 16; 32736 = 1023 x 32
       [](json& j) { j["training"]["document_lengths"] = {65536, 32768, 32752, 16}; }, "training.document_lengths[2]",
       "every document % (2*CP) == 0",
       [](json& j) { j["training"]["document_lengths"] = {65536, 32768, 32736, 32}; }},
      {"one packing: document_length or document_lengths",
       [](json& j) {
         j["training"]["document_length"] = 65536;
         j["training"]["document_lengths"] = {65536, 65536};
       },
       "training.document_lengths", "one packing", [](json& j) { j["training"]["document_lengths"] = {65536, 65536}; }},
      {"a packing lists at least one document",
       [](json& j) { j["training"]["document_lengths"] = json::array(); }, "training.document_lengths",
       "1 to 16384 documents", [](json& j) { j["training"]["document_lengths"] = {131072}; }},
      {"packed documents are not striped",  // contiguous blocks: ring-flash-attention's varlen ring
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_load_balance"] = "stripe";
       },
       "training.document_length", "striped documents are not modelled",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_load_balance"] = "contiguous";
       }},
      {"packed documents without a sliding window",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_comm_type"] = "a2a";
         j["parallel"]["context_parallel_size"] = 8;
         j["model"]["sliding_window"] = 4096;
       },
       "training.document_length", "with a sliding window are not modelled",
       [](json& j) {
         j["training"]["document_length"] = 8192;
         j["parallel"]["cp_comm_type"] = "a2a";
         j["parallel"]["context_parallel_size"] = 8;
       }},
      {"tp_comm_overlap across NVL72 trays needs TE 2.2",
       [](json& j) { nvl72_tp8_overlap(j, "2.1.0"); }, "parallel.tp_comm_overlap", "from TE 2.2 on",
       [](json& j) { nvl72_tp8_overlap(j, "2.2.0"); }},
  };
  for (const auto& r : rules) {
    DYNAMIC_SECTION(r.name) {
      json bad = base();
      r.violate(bad);
      const Outcome b = parse(bad);
      INFO("violating case: " << describe(b));
      CHECK_FALSE(b.valid);
      CHECK(has_error(b, r.path, r.rule_part));
      json good = base();
      r.neighbour(good);
      const Outcome g = parse(good);
      INFO("neighbour: " << describe(g));
      CHECK(g.valid);
    }
  }
}

TEST_CASE("a bad document length is one error at its index, its value as written", "[model][validate]") {
  // 2^40 is beyond the 2^32 bound (it reads as an unsigned JSON integer); 0 below 1; 1.5 no integer.
  // Each is one error at its index: no second one for the list it spoils.
  for (const auto& [value, rule] : {std::pair{json(uint64_t{1} << 40), "must be an integer in [1, 4294967296]"},
                                    std::pair{json(0), "must be an integer in [1, 4294967296]"},
                                    std::pair{json(1.5), "type"}}) {
    json j = base();
    j["training"]["document_lengths"] = {65536, value};
    const Outcome o = parse(j);
    INFO(describe(o));
    REQUIRE(o.errors.size() == 1);
    CHECK(o.errors[0].path == "training.document_lengths[1]");
    CHECK(o.errors[0].rule == rule);
  }
  json j = base();
  j["training"]["document_lengths"] = {uint64_t{1} << 40};
  CHECK(describe(parse(j)).find("value 1099511627776 is out of range") != std::string::npos);
}

TEST_CASE("allgather is rejected with a pointer to all_gather", "[model][validate]") {
  json j = base();
  j["parallel"]["cp_comm_type"] = "allgather";
  const Outcome o = parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].fix.find("use \"all_gather\"") != std::string::npos);
}

TEST_CASE("an a2a group wider than a node warns, with the hierarchical sizes that keep it inside", "[model][validate]") {
  // CP 16 on 8-GPU nodes, 32 KV heads so a2a may split them. At TP 1 the a2a group is 16 consecutive
  // GPUs, two nodes: a2a+p2p [8, 2] keeps it in one. At TP 2 with inner a2a 4 it is 2 x 4 = 8: inside.
  const auto a2a_warnings = [](const Outcome& o) {
    int n = 0;
    for (const auto& w : o.scenario.warnings) n += w.find("the a2a group") != std::string::npos;
    return n;
  };
  json j = base();
  j["model"]["num_query_groups"] = 32;
  j["parallel"]["cp_comm_type"] = "a2a";
  Outcome o = parse(j);
  REQUIRE(o.valid);
  REQUIRE(a2a_warnings(o) == 1);
  for (const auto& w : o.scenario.warnings)
    if (w.find("the a2a group") != std::string::npos) {
      CHECK_THAT(w, Catch::Contains("16 consecutive GPUs) spans more than a node of 8"));
      CHECK_THAT(w, Catch::Contains("hierarchical_context_parallel_sizes [8, 2]"));
    }
  j["parallel"]["cp_comm_type"] = "a2a+p2p";
  j["parallel"]["hierarchical_context_parallel_sizes"] = {16, 1};
  CHECK(a2a_warnings(parse(j)) == 1);
  j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};  // 8 GPUs: one node
  CHECK(a2a_warnings(parse(j)) == 0);
  j["parallel"]["tensor_model_parallel_size"] = 2;
  j["parallel"]["hierarchical_context_parallel_sizes"] = {4, 4};  // 2 x 4 = 8
  j["cluster"]["num_nodes"] = 8;
  CHECK(a2a_warnings(parse(j)) == 0);
  j["parallel"]["hierarchical_context_parallel_sizes"] = {8, 2};  // 2 x 8 = 16: two nodes
  CHECK(a2a_warnings(parse(j)) == 1);
  // Two GB200 NVL72 domains of 72: groups of 16 do not tile 72, so ranks 64-79 straddle the two
  // (Megatron's a2a groups are consecutive CP ranks). The fix: the largest inner size that tiles 72,
  // divides CP 16 and the 32 heads and KV heads: 8, [8, 2]. One domain of 64 alone: nothing to cross.
  json n = base();
  n["model"]["num_query_groups"] = 32;
  n["parallel"]["cp_comm_type"] = "a2a";
  n["cluster"] = {{"preset", "gb200-nvl72"}, {"num_nodes", 2}};
  n["training"]["global_batch_size"] = 9;  // DP 144 / 16 = 9
  o = parse(n);
  REQUIRE(o.valid);
  REQUIRE(a2a_warnings(o) == 1);
  for (const auto& w : o.scenario.warnings)
    if (w.find("the a2a group") != std::string::npos) {
      CHECK_THAT(w, Catch::Contains("16 consecutive GPUs) does not divide a node of 72"));
      CHECK_THAT(w, Catch::Contains("hierarchical_context_parallel_sizes [8, 2]"));
    }
  n["cluster"]["num_nodes"] = 1;  // 64 GPUs of one domain, DP 4
  n["cluster"]["gpus_per_node"] = 64;
  n["training"]["global_batch_size"] = 8;
  o = parse(n);
  REQUIRE(o.valid);
  CHECK(a2a_warnings(o) == 0);
}

TEST_CASE("a token order other than zigzag is ring-flash-attention's: said, and ignored off a ring", "[model][validate]") {
  json j = base();
  j["parallel"]["cp_load_balance"] = "stripe";
  Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.valid);
  CHECK(o.scenario.parallel.cp_load_balance == CpLoadBalance::Stripe);
  REQUIRE(o.scenario.warnings.size() == 1);
  CHECK(o.scenario.warnings[0].find("ring-flash-attention's token order, which Transformer Engine and Megatron do not "
                                    "run") != std::string::npos);
  j["parallel"]["cp_comm_type"] = "a2a";  // over CP 8 (8 KV heads): valid, the order ignored and said so
  j["parallel"]["context_parallel_size"] = 8;
  o = parse(j);
  INFO(describe(o));
  REQUIRE(o.valid);
  REQUIRE(o.scenario.warnings.size() == 1);
  CHECK(o.scenario.warnings[0].find("is ignored with cp_comm_type a2a") != std::string::npos);
  j = base();
  j["parallel"]["cp_load_balance"] = "basic";
  o = parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "parallel.cp_load_balance");
  CHECK(o.errors[0].fix.find("\"contiguous\"") != std::string::npos);
}

TEST_CASE("packed documents: the fix names a length both rules take, and TE from 2.18", "[model][validate]") {
  // S = 120 at CP 2: a length must divide 120 and be a multiple of 2 CP = 4, i.e. 4 x a divisor of 30:
  // 4, 8, 12, 20, 24, 40, 60, 120. The nearest above 15 (which divides S, but 4 does not divide it)
  // and above 17 (which divides nothing) is 20.
  json j = base();
  j["training"]["seq_length"] = 120;
  j["training"]["global_batch_size"] = 16;  // TP 1 x CP 2 on 32 GPUs: DP 16
  j["parallel"]["context_parallel_size"] = 2;
  for (const auto& [d, fix] : {std::pair{15, "pad documents to 20 tokens"}, std::pair{17, "use 20 "}}) {
    j["training"]["document_length"] = d;
    const Outcome o = parse(j);
    INFO(describe(o));
    REQUIRE(o.errors.size() == 1);
    CHECK(o.errors[0].path == "training.document_length");
    CHECK_THAT(o.errors[0].fix, Catch::StartsWith(fix));
  }
  j["training"]["document_length"] = 20;
  CHECK(parse(j).valid);
  j["software"]["transformer_engine_version"] = "2.17.0";
  const Outcome old = parse(j);
  CHECK(has_error(old, "software.transformer_engine_version", "modelled from TE 2.18"));
}

TEST_CASE("inner or outer size 1 warns that TE falls back", "[model][validate]") {
  json j = base();
  j["parallel"]["cp_comm_type"] = "a2a+p2p";
  j["parallel"]["hierarchical_context_parallel_sizes"] = {1, 16};
  const Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.valid);
  REQUIRE(o.scenario.warnings.size() == 1);
  CHECK(o.scenario.warnings[0].find("falls back to pure p2p") != std::string::npos);
}

TEST_CASE("wrong types, negative, zero and 64-bit-overflowing sizes are errors", "[model][validate]") {
  const std::vector<std::pair<json, std::string>> cases = {
      {"16", "type"}, {-1, "must be an integer in"}, {0, "must be an integer in"}, {16.5, "type"},
      {json::parse("18446744073709551615"), "range"}, {json::parse("1e300"), "range"}, {json::parse("1e30"), "range"}, {json::parse("2.5e3"), "type"}, {nullptr, "type"},
      {json::array({16}), "type"}};
  for (const auto& [value, rule] : cases) {
    DYNAMIC_SECTION("context_parallel_size = " << value.dump()) {
      json j = base();
      j["parallel"]["context_parallel_size"] = value;
      const Outcome o = parse(j);
      INFO(describe(o));
      CHECK(has_error(o, "parallel.context_parallel_size", rule));
    }
  }
  SECTION("products that overflow 64 bits are errors, not crashes") {
    json j = base();
    j["parallel"]["tensor_model_parallel_size"] = 1 << 20;
    j["parallel"]["context_parallel_size"] = 1 << 20;
    j["cluster"]["num_nodes"] = 1 << 20;
    j["training"]["micro_batch_size"] = 1 << 20;
    j["training"]["seq_length"] = int64_t{1} << 32;
    const Outcome o = parse(j);
    CHECK_FALSE(o.valid);
    CHECK(has_error(o, "training.micro_batch_size", "2^40 tokens"));
  }
}

TEST_CASE("unknown keys are errors with a did-you-mean suggestion", "[model][validate]") {
  json j = base();
  j["parallel"]["contex_parallel_size"] = 16;
  j["training"]["seq_lenght"] = 4;
  const Outcome o = parse(j);
  REQUIRE(o.errors.size() == 2);  // every error is reported, not only the first
  CHECK(has_error(o, "parallel.contex_parallel_size", "unknown keys are errors"));
  CHECK(o.errors[0].fix == "did you mean \"seq_length\"?");
  CHECK(o.errors[1].fix == "did you mean \"context_parallel_size\"?");
}

TEST_CASE("an unknown key does not hide the other rules' errors", "[model][validate]") {
  json j = base();
  j["parallel"]["contex_parallel_size"] = 3;
  j["training"]["seq_length"] = 131000;
  const Outcome o = parse(j);
  CHECK(has_error(o, "parallel.contex_parallel_size", "unknown keys are errors"));
  CHECK(has_error(o, "training.seq_length", "seq_length % (2*CP) == 0"));
}

TEST_CASE("unknown presets suggest the closest name", "[model][validate]") {
  json j = base();
  j["model"]["preset"] = "llama3.1-8B";
  j["cluster"]["preset"] = "dgx_h100";
  const Outcome o = parse(j);
  REQUIRE(o.errors.size() == 2);
  CHECK(o.errors[0].fix == "did you mean \"llama3.1-8b\"?");
  CHECK(o.errors[1].fix == "did you mean \"dgx-h100\"?");
}

TEST_CASE("a number JSON cannot hold is an error, not a crash", "[model][validate]") {
  // Found by the fuzzer: nlohmann throws out_of_range (not parse_error) here.
  const Outcome o = parse(std::string("{\"training\": {\"seq_length\": 131e3081000}}"));
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].what.find("malformed JSON") != std::string::npos);
}

TEST_CASE("a model with missing keys skips the head rules instead of dividing by zero", "[model][validate]") {
  // Found by the fuzzer: without a preset, missing num_query_groups reached heads % groups.
  json j = base();
  j["model"] = {{"hidden_size", 4096}};
  const Outcome o = parse(j);
  CHECK(has_error(o, "model.num_layers", "required without model.preset"));
  CHECK(has_error(o, "model.num_attention_heads", "required without model.preset"));
  for (const auto& d : o.errors) CHECK(d.path != "model.num_query_groups");
}

TEST_CASE("malformed JSON reports line and column", "[model][validate]") {
  const std::string text = "{\n  \"name\": \"x\",\n  \"model\": {\"preset\": \"llama3.1-8b\",}\n}\n";
  const Outcome o = parse(text);
  REQUIRE(o.errors.size() == 1);
  // The parser fails at the '}' after the trailing comma: line 3, column = its
  // offset from the start of line 3, plus one.
  const size_t line3 = text.find('\n', text.find('\n') + 1) + 1;
  const size_t column = text.find(",}") + 1 - line3 + 1;
  CHECK(o.errors[0].what.find("<scenario>:3:" + std::to_string(column) + ": malformed JSON") == 0);
}

TEST_CASE("a key repeated in one object is an error at its path, not the last one kept", "[model][validate]") {
  // Two "model" sections (the second a different model) and a repeat inside an array's object; keys
  // repeated in different objects are fine.
  const std::string text = R"({"name": "x", "model": {"preset": "llama3.1-8b"}, "model": {"preset": "mistral-7b"},
    "training": {"seq_length": 8192, "micro_batch_size": 1},
    "parallel": {"tensor_model_parallel_size": 1, "hierarchical_context_parallel_sizes": [2, 4]},
    "cluster": {"preset": "dgx-h100", "num_nodes": 1, "gpu": {"name": "a", "name": "b"}},
    "sweep": [{"x": 1}, {"x": 2, "y": 3, "y": 4}]})";
  const Outcome o = parse(text);
  INFO(describe(o));
  REQUIRE(o.errors.size() == 3);
  CHECK(o.errors[0].path == "model");
  CHECK_THAT(o.errors[0].what, Catch::Contains("\"model\" appears twice in one object"));
  CHECK_THAT(o.errors[0].fix, Catch::Contains("keep one"));
  CHECK(o.errors[1].path == "cluster.gpu.name");
  CHECK(o.errors[2].path == "sweep[1].y");
}

TEST_CASE("missing sections and required keys are named", "[model][validate]") {
  json j = base();
  j.erase("cluster");
  j["training"].erase("seq_length");
  const Outcome o = parse(j);
  CHECK(has_error(o, "cluster", "a scenario names"));
  CHECK(has_error(o, "training.seq_length", "required"));
}

TEST_CASE("messages have the form error: path: what (rule) - fix", "[model][validate]") {
  json j = base();
  j["training"]["seq_length"] = 131000;
  const Outcome o = parse(j);
  REQUIRE(o.errors.size() == 1);
  const std::regex form(R"(^error: [a-z_.\[\]0-9]+: .+ \(.+\) \xE2\x80\x94 .+$)");
  CHECK(std::regex_match(o.errors[0].str(), form));
}

TEST_CASE("a model from a Hugging Face config.json equals the preset", "[model][validate]") {
  json j = base();
  j["model"] = {{"hf_config", "hf/llama-3.1-8b/config.json"}};
  const Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.valid);
  const ModelSpec& m = o.scenario.model;
  // Llama-3.1-8B's published config: 32 layers, 4096 hidden, 14336 ffn, 32/8 heads, vocab 128256.
  CHECK(m.num_layers == 32);
  CHECK(m.hidden_size == 4096);
  CHECK(m.ffn_hidden_size == 14336);
  CHECK(m.num_attention_heads == 32);
  CHECK(m.num_query_groups == 8);
  CHECK(m.kv_channels == 4096 / 32);
  CHECK(m.vocab_size == 128256);
  CHECK_FALSE(m.sliding_window);
  CHECK(m.untie_embeddings_and_output_weights);

  SECTION("explicit keys override the imported shape") {
    j["model"]["num_layers"] = 2;
    const Outcome o2 = parse(j);
    REQUIRE(o2.valid);
    CHECK(o2.scenario.model.num_layers == 2);
  }
  SECTION("a missing file is an error at model.hf_config") {
    j["model"]["hf_config"] = "no/such/config.json";
    CHECK(has_error(parse(j), "model.hf_config", "file must be readable"));
  }
  SECTION("preset and hf_config together are an error") {
    j["model"]["preset"] = "llama3.1-8b";
    CHECK(has_error(parse(j), "model.hf_config", "one model source"));
  }
}

TEST_CASE("cluster overrides replace preset values in SI units", "[model][validate]") {
  json j = base();
  j["cluster"]["inter_node"] = {{"nic_bandwidth_GBps", 25}, {"oversubscription", 2}, {"rail_optimized", false}};
  j["cluster"]["gpu"] = {{"memory_gb", 94}};
  const Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.valid);
  CHECK(o.scenario.cluster.inter_node.nic_bandwidth_bytes_per_s == 25e9);
  CHECK(o.scenario.cluster.inter_node.oversubscription == 2.0);
  CHECK_FALSE(o.scenario.cluster.inter_node.rail_optimized);
  CHECK(o.scenario.cluster.gpu.memory_bytes == 94e9);
  CHECK(o.scenario.cluster.gpu.peak_bf16_flops_per_s == 989e12);  // still the preset's
}

TEST_CASE("a renamed GPU without its SM count warns that cuDNN attention is timed by FLOPs alone",
          "[model][validate]") {
  auto warned = [](const Outcome& o) {
    for (const auto& w : o.scenario.warnings)
      if (w.find("no sm_count: cuDNN attention is timed by its FLOPs alone") != std::string::npos) return true;
    return false;
  };
  json j = base();
  j["cluster"]["gpu"] = {{"name", "H100-variant"}};  // another GPU: the preset's SMs are not carried over
  const Outcome renamed = parse(j);
  INFO(describe(renamed));
  REQUIRE(renamed.valid);
  CHECK(renamed.scenario.cluster.gpu.sm_count == 0);
  CHECK(warned(renamed));
  j["cluster"]["gpu"]["sm_count"] = 132;  // given: balanced, no warning
  CHECK_FALSE(warned(parse(j)));
  j = base();
  j["cluster"]["gpu"] = {{"name", "H100-variant"}};
  j["software"]["attention_backend"] = "flash";  // its shape model and tables need no balance
  CHECK_FALSE(warned(parse(j)));
  CHECK_FALSE(warned(parse(base())));  // the preset's GPU has its SMs
}

TEST_CASE("all_gather with cuDNN warns where its bottom-right backward is not measured (not sm_90)",
          "[model][validate]") {
  auto warned = [](const Outcome& o) {
    for (const auto& w : o.scenario.warnings)
      if (w.find("cuDNN's bottom-right causal backward (all_gather's chunks") != std::string::npos)
        return true;
    return false;
  };
  json j = base();
  j["parallel"]["cp_comm_type"] = "all_gather";
  const Outcome h100 = parse(j);  // sm_90: measured (rules/cudnn_bottom_right.hpp), no warning
  INFO(describe(h100));
  REQUIRE(h100.valid);
  CHECK_FALSE(warned(h100));
  j["cluster"]["preset"] = "dgx-b200";  // sm_100: not measured
  const Outcome b200 = parse(j);
  INFO(describe(b200));
  REQUIRE(b200.valid);
  CHECK(b200.scenario.cluster.gpu.compute_capability == 100);
  CHECK(warned(b200));
  // Its figure is this layout's: (2 CP + 1) / (2 CP) - 1 = 1 / 32 at CP 16.
  bool figure = false;
  for (const auto& w : b200.scenario.warnings) figure = figure || w.find("(+3.1% backward attention at CP 16") != std::string::npos;
  CHECK(figure);
  j["training"]["attn_mask_type"] = "no_mask";  // no mask: the chunks are plain rectangles
  CHECK_FALSE(warned(parse(j)));
  j["training"].erase("attn_mask_type");
  j["cluster"]["preset"] = "dgx-h100";
  j["model"]["sliding_window"] = 4096;  // a band: not measured on sm_90 either
  const Outcome window = parse(j);
  INFO(describe(window));
  REQUIRE(window.valid);
  CHECK(warned(window));
  j["model"].erase("sliding_window");
  j["cluster"]["preset"] = "dgx-b200";
  j["software"]["attention_backend"] = "flash";  // FlashAttention's own rules: no warning
  CHECK_FALSE(warned(parse(j)));
  j["software"].erase("attention_backend");
  j["parallel"]["cp_comm_type"] = "p2p";  // no bottom-right kernels
  CHECK_FALSE(warned(parse(j)));
}

TEST_CASE("the shipped scenarios are valid", "[model][validate]") {
  for (const char* f : {"seed-a-hcp.json", "seed-b-tp2-a2a.json", "seed-c-p2p.json", "llama70b-h200-256k.json",
                        "gb200-nvl72-a2a72.json", "oversubscribed-hcp.json", "hf-config-example.json",
                        "llama405b-128k-tp8-cp16-pp16.json", "llama70b-16k-tp8-tp-overlap.json"}) {
    DYNAMIC_SECTION(f) {
      Scenario sc;
      REQUIRE_NOTHROW(sc = load_scenario_file(std::string(HCPSIM_SOURCE_DIR "/scenarios/") + f));
    }
  }
}

TEST_CASE("tp_comm_overlap with TP 1 warns and is turned off", "[model][validate]") {
  json j = base();
  j["parallel"]["tp_comm_overlap"] = true;
  const Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.valid);
  CHECK_FALSE(o.scenario.parallel.tp_comm_overlap);
  bool warned = false;
  for (const auto& w : o.scenario.warnings) warned = warned || w.find("tp_comm_overlap has no effect") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("overlap_p2p_comm defaults as Megatron's: on with virtual stages, off without, a warning only when set",
          "[model][validate]") {
  // Megatron-LM's arguments.py: --no-overlap-p2p-communication stores False into overlap_p2p_comm
  // (so it is on unless that flag is given), then turns it off where there are no virtual stages.
  const auto warned = [](const Outcome& o) {
    for (const auto& w : o.scenario.warnings)
      if (w.find("overlap_p2p_comm applies to the interleaved schedule only") != std::string::npos) return true;
    return false;
  };
  json j = base();
  j["parallel"]["context_parallel_size"] = 4;
  j["parallel"]["pipeline_model_parallel_size"] = 4;  // DP 2, 4 micro batches
  Outcome plain = parse(j);
  INFO(describe(plain));
  REQUIRE(plain.valid);
  CHECK_FALSE(plain.scenario.parallel.pipeline().overlap_p2p_comm);
  CHECK_FALSE(warned(plain));
  j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
  const Outcome interleaved = parse(j);
  REQUIRE(interleaved.valid);
  CHECK(interleaved.scenario.parallel.pipeline().overlapped());
  j["parallel"]["overlap_p2p_comm"] = false;
  const Outcome blocking = parse(j);
  REQUIRE(blocking.valid);
  CHECK_FALSE(blocking.scenario.parallel.pipeline().overlapped());
  j["parallel"].erase("virtual_pipeline_model_parallel_size");
  j["parallel"]["overlap_p2p_comm"] = true;  // set without virtual stages: said, and turned off
  const Outcome set = parse(j);
  REQUIRE(set.valid);
  CHECK(warned(set));
  CHECK_FALSE(set.scenario.parallel.pipeline().overlap_p2p_comm);
}

TEST_CASE("tp_comm_overlap says it is not measured, and on A100 that userbuffers need multicast", "[model][validate]") {
  json j = base();
  tp_overlap(j, 2, 16);
  auto warned = [](const Outcome& o, const char* part) {
    for (const auto& w : o.scenario.warnings)
      if (w.find(part) != std::string::npos) return true;
    return false;
  };
  const Outcome h100 = parse(j);
  REQUIRE(h100.valid);
  CHECK(warned(h100, "not measured"));
  CHECK_FALSE(warned(h100, "multicast"));
  j["cluster"]["preset"] = "dgx-a100";
  const Outcome a100 = parse(j);
  REQUIRE(a100.valid);
  CHECK(warned(a100, "multicast"));
}

TEST_CASE("an SM clock changed on a preset's GPU says it does not rescale the peaks", "[model][validate]") {
  const auto clock_warnings = [](const Outcome& o) {
    int n = 0;
    for (const auto& w : o.scenario.warnings) n += w.find("does not rescale the preset's peaks") != std::string::npos;
    return n;
  };
  CHECK(clock_warnings(parse(base())) == 0);
  json j = base();
  j["cluster"]["gpu"] = {{"sm_clock_mhz", 1500}};  // the base's H100s, quoted at 1830 MHz
  Outcome o = parse(j);
  REQUIRE(o.valid);
  CHECK(clock_warnings(o) == 1);
  j["cluster"]["gpu"]["peak_bf16_tflops"] = 811;  // 989 x 1500 / 1830: the user rescaled the peak too
  CHECK(clock_warnings(parse(j)) == 0);
  j["cluster"]["gpu"] = {{"sm_clock_mhz", 1830}};  // the preset's own clock
  CHECK(clock_warnings(parse(j)) == 0);
}

TEST_CASE("an SM count changed on a preset's GPU with its peak kept is an error", "[model][validate]") {
  // One SM at the H100's 989 TFLOP/s timed attention faster than 132 SMs do (each SM 132x the H100's).
  json j = base();
  j["cluster"]["gpu"] = {{"sm_count", 1}};
  CHECK(has_error(parse(j), "cluster.gpu.sm_count", "a GPU's peaks are its SMs' together"));
  j["cluster"]["gpu"]["peak_bf16_tflops"] = 7.5;  // 989 / 132: that GPU's own peak
  CHECK(parse(j).valid);
  j["cluster"]["gpu"] = {{"sm_count", 132}};  // the preset's own count
  CHECK(parse(j).valid);
}

TEST_CASE("a GPU's fp8 peak below its bf16 one, or its fp4 peak below its fp8 one, warns as a likely typo",
          "[model][validate]") {
  const auto peak_warnings = [](const Outcome& o) {
    int n = 0;
    for (const auto& w : o.scenario.warnings) n += w.find("check the figure (dense TFLOP/s)") != std::string::npos;
    return n;
  };
  json j = base();
  j["cluster"] = {{"preset", "dgx-b200"}, {"num_nodes", 4}};
  CHECK(peak_warnings(parse(j)) == 0);  // 2250 / 4500 / 9000
  j["cluster"]["gpu"] = {{"peak_fp4_tflops", 1000}};  // 9000 with a zero dropped
  CHECK(peak_warnings(parse(j)) == 1);
  j["cluster"]["gpu"] = {{"peak_fp8_tflops", 450}};  // below bf16, and fp4 (9000) no longer below fp8
  CHECK(peak_warnings(parse(j)) == 1);
}

TEST_CASE("a TP that does not split the heads is the one error: no rule divides the heads by it", "[validate]") {
  // Llama-3.1-8B: 32 heads, 8 KV heads. TP 3 on 24 GPUs (3 nodes) x CP 4 x DP 2 with a2a and
  // sequence parallelism: 32/3 and 8/3 are not whole, so the a2a head rules (which would read
  // 10 and 2) and the SP rule (131072/4 % 3 != 0, "pad to 24") rest on a TP that must change.
  json j = base();
  j["cluster"]["num_nodes"] = 3;
  j["parallel"] = {{"tensor_model_parallel_size", 3}, {"context_parallel_size", 4}, {"cp_comm_type", "a2a"},
                   {"sequence_parallel", true}};
  const Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "parallel.tensor_model_parallel_size");
  // The TP sizes that split both (divisors of 32 that divide 8, or multiples of 8 dividing 32),
  // within a node of 8 GPUs.
  CHECK(o.errors[0].fix == "use TP in {1, 2, 4, 8}");
  SECTION("TP 16 replicates the 8 KV heads (16 % 8 == 0); TP 12 splits neither") {
    json k = base();
    k["model"] = {{"preset", "llama3.1-8b"}, {"num_attention_heads", 48}, {"num_query_groups", 8}, {"kv_channels", 128}};
    k["parallel"]["tensor_model_parallel_size"] = 12;  // 48 % 12 == 0, but 8 % 12 != 0 and 12 % 8 != 0
    k["parallel"]["context_parallel_size"] = 1;
    k["cluster"]["num_nodes"] = 3;
    const Outcome q = parse(k);
    INFO(describe(q));
    REQUIRE(!q.errors.empty());
    CHECK(q.errors[0].what == "num_query_groups 8 is not divisible by TP 12");
    // 48 heads, 8 groups: 1, 2, 4, 8 divide both (16, 24, 48 too, beyond the 8-GPU node).
    CHECK(q.errors[0].fix == "use TP in {1, 2, 4, 8}");
  }
}

TEST_CASE("a2a+p2p's suggested split has both groups of 2 or more, or says CP has none", "[validate]") {
  // CP 4 at TP 2 (4 KV heads a rank): [2, 2], not [4, 1] (pure a2a) or [8, ...] (product 8).
  json j = base();
  j["parallel"] = {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 4}, {"cp_comm_type", "a2a+p2p"}};
  const Outcome missing = parse(j);
  INFO(describe(missing));
  REQUIRE(has_error(missing, "parallel.hierarchical_context_parallel_sizes", "needs hierarchical_context_parallel_sizes"));
  CHECK_THAT(missing.errors[0].fix, Catch::EndsWith("e.g. [2, 2]"));
  j["parallel"]["hierarchical_context_parallel_sizes"] = {3, 2};
  const Outcome product = parse(j);
  INFO(describe(product));
  REQUIRE(has_error(product, "parallel.hierarchical_context_parallel_sizes", "prod("));
  CHECK_THAT(product.errors[0].fix, Catch::EndsWith("e.g. [2, 2]"));
  // CP 16 at TP 1 (8 KV heads): the largest inner group of one node that divides them, [8, 2].
  json k = base();
  k["parallel"]["cp_comm_type"] = "a2a+p2p";
  CHECK_THAT(parse(k).errors.at(0).fix, Catch::EndsWith("e.g. [8, 2]"));
  // TP 8 leaves one KV head a rank, which no inner a2a group of 2 or more splits.
  json one_kv = base();
  one_kv["parallel"] = {{"tensor_model_parallel_size", 8}, {"context_parallel_size", 4}, {"cp_comm_type", "a2a+p2p"}};
  const Outcome ok1 = parse(one_kv);
  INFO(describe(ok1));
  REQUIRE(!ok1.errors.empty());
  CHECK_THAT(ok1.errors[0].fix, Catch::StartsWith("no inner a2a group of 2 or more divides both CP 4 and the 1 KV head"));
  // CP 2 splits only as [2, 1] or [1, 2].
  json two = base();
  two["parallel"] = {{"tensor_model_parallel_size", 8}, {"context_parallel_size", 2}, {"cp_comm_type", "a2a+p2p"}};
  const Outcome o2 = parse(two);
  INFO(describe(o2));
  REQUIRE(!o2.errors.empty());
  CHECK_THAT(o2.errors[0].fix, Catch::Contains("CP 2 splits only as [2, 1] or [1, 2]"));
}

TEST_CASE("more than 2^20 micro batches a step is an error, not an exhausted memory", "[validate]") {
  // base(): micro batch 1 x DP 2, so a global batch of 2^21 is 2^20 micro batches a rank (allowed)
  // and 2^21 + 2 is one more.
  json j = base();
  j["training"]["global_batch_size"] = int64_t{1} << 21;
  CHECK(parse(j).errors.empty());
  j["training"]["global_batch_size"] = (int64_t{1} << 21) + 2;
  const Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(has_error(o, "training.global_batch_size", "micro batches a step x virtual stages <= 1048576"));
  CHECK_THAT(o.errors[0].fix, Catch::StartsWith("use a global batch of at most 2097152"));
}

TEST_CASE("a2a's KV-head rule: the fix lowers TP, never raises it", "[parallel][validate]") {
  const auto kv_rule_fix = [](const Outcome& o) {
    for (const auto& d : o.errors)
      if (d.rule == "a2a needs (num_query_groups/TP) % CP == 0") return d.fix;
    return std::string("(no KV-head error)");
  };
  // Llama-3.1-8B: 32 heads, 8 KV heads. a2a splits the KV heads a rank holds, 8 / TP, over CP:
  // raising TP lowers them, so only a lower TP can help. TP4 x CP4: 8 / 4 = 2 KV heads, not
  // divisible by 4; TP1 (8 and 32 heads) and TP2 (4 and 16) split over 4, so {1, 2}.
  json j = base();
  j["parallel"]["tensor_model_parallel_size"] = 4;
  j["parallel"]["context_parallel_size"] = 4;
  j["parallel"]["cp_comm_type"] = "a2a";
  j["training"]["global_batch_size"] = 2;  // 32 GPUs / 16 = DP 2
  Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(has_error(o, "parallel.context_parallel_size", "(num_query_groups/TP) % CP == 0"));
  CHECK(kv_rule_fix(o) == "use CP in {1, 2}; lower TP to one of {1, 2}; or use a2a+p2p with an inner size dividing 2");
  // TP8 x CP8 on 64 GPUs: one KV head a rank, which no CP > 1 or inner a2a group splits; TP1 (8
  // KV heads, 32 heads) alone splits over 8 (TP2's 4 do not). (The 4 query heads a rank holds fail
  // their own rule beside it.)
  j["cluster"]["num_nodes"] = 8;
  j["parallel"]["tensor_model_parallel_size"] = 8;
  j["parallel"]["context_parallel_size"] = 8;
  j["training"]["global_batch_size"] = 1;
  o = parse(j);
  INFO(describe(o));
  REQUIRE(has_error(o, "parallel.context_parallel_size", "(num_query_groups/TP) % CP == 0"));
  CHECK(kv_rule_fix(o) == "lower TP to one of {1}, or use p2p or all_gather");
}

TEST_CASE("a GPU of another vendor is refused, and a renamed preset GPU is said to keep the preset numbers",
          "[cluster][validate]") {
  // "MI300X" on dgx-h100 was simulated as an H100 with the H200's cuDNN fits and a 1.6 % band.
  for (const char* name : {"MI300X", "AMD Instinct MI325X", "Gaudi 3", "TPU v5p"}) {
    json j = base();
    j["cluster"]["gpu"] = {{"name", name}};
    const Outcome o = parse(j);
    INFO(name << "\n" << describe(o));
    CHECK(has_error(o, "cluster.gpu.name", "hcpsim models NVIDIA GPUs"));
  }
  for (const char* name : {"", "  "}) {  // no name: nothing to pick its kernel figures by (it read as an unknown GPU)
    json j = base();
    j["cluster"]["gpu"] = {{"name", name}};
    CHECK(has_error(parse(j), "cluster.gpu.name", "picks its kernel figures"));
    // Without a preset too (an empty name was taken for one left out, "custom"), and the fix keeps
    // no preset's; the same GPU with no name given is valid.
    j["cluster"] = {{"num_nodes", 4}, {"gpus_per_node", 8},
                    {"gpu", {{"peak_bf16_tflops", 989}, {"memory_gb", 80}, {"hbm_GBps", 3350}, {"compute_capability", 90}}},
                    {"intra_node", {{"kind", "nvswitch"}, {"bandwidth_GBps", 450}, {"latency_us", 2}}},
                    {"inter_node", {{"nics_per_node", 8}, {"nic_bandwidth_GBps", 50}, {"latency_us", 5}}}};
    const Outcome unnamed = parse(j);
    INFO(describe(unnamed));
    CHECK(unnamed.valid);
    j["cluster"]["gpu"]["name"] = name;
    const Outcome empty = parse(j);
    INFO(describe(empty));
    CHECK(has_error(empty, "cluster.gpu.name", "picks its kernel figures"));
    CHECK(describe(empty).find("keep the preset's") == std::string::npos);
  }
  const auto warning_of = [](const Outcome& o) {
    for (const std::string& w : o.scenario.warnings)
      if (w.rfind("cluster.gpu.name", 0) == 0) return w;
    return std::string();
  };
  json j = base();
  j["cluster"]["gpu"] = {{"name", "B200"}};  // a GPU hcpsim has a preset of, named on the H100's
  Outcome o = parse(j);
  REQUIRE(o.valid);
  // The H100 preset has no fp4 peak: neither kept nor dropped. Its SM figures go with the name (parse.cpp).
  CHECK_THAT(warning_of(o), Catch::Contains("is not the preset's H100-SXM-80GB: the GPU keeps the preset's bf16 peak, "
                                            "fp8 peak, memory, HBM bandwidth, and compute capability (9.0), not its SM "
                                            "count, SM clock, and kernel measurements"));
  CHECK(o.scenario.cluster.gpu.sm_count == 0);  // as the warning says: not the preset's 132
  // Given a bf16 peak of its own, the renamed GPU keeps no fp8 peak of the preset's (parse.cpp), and
  // with its SM count the preset's clock: the warning reads it off the GPU as parsed.
  j["cluster"]["gpu"] = {{"name", "X1000"}, {"peak_bf16_tflops", 1200}, {"sm_count", 100}};
  o = parse(j);
  REQUIRE(o.valid);
  CHECK_THAT(warning_of(o), Catch::Contains(": the GPU keeps the preset's memory, HBM bandwidth, compute capability (9.0), "
                                            "and SM clock, not its fp8 peak and kernel measurements"));
  j["cluster"]["gpu"] = {{"name", "B200"}};
  o = parse(j);
  CHECK_THAT(warning_of(o), Catch::EndsWith("for a B200 use the preset \"dgx-b200\""));
  j["cluster"]["gpu"] = {{"name", "X1000"}};  // one it has none of
  o = parse(j);
  REQUIRE(o.valid);
  CHECK_THAT(warning_of(o), Catch::EndsWith("calibrate on it (hcpcal, hcpsim fit), for its own"));
  j["cluster"]["gpu"] = {{"name", "NVIDIA H100 80GB HBM3"}};  // the preset's GPU by nvidia-smi's name: no warning
  o = parse(j);
  REQUIRE(o.valid);
  CHECK(warning_of(o).empty());
}

TEST_CASE("the parameter gather's overlap without both the reduce's and the distributed optimizer is one error",
          "[validate]") {
  // Both off with the gather's overlap on: one error naming both, whose fix turns both on (one
  // error at a time sent the user from one refusal to the next). Under Megatron-FSDP the reduce's
  // own rule speaks (check_megatron_fsdp), and the gather's says nothing more.
  json j = base();
  j["parallel"]["overlap_grad_reduce"] = false;
  j["parallel"]["use_distributed_optimizer"] = false;
  j["parallel"]["overlap_param_gather"] = true;
  Outcome o = parse(j);
  INFO(describe(o));
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "parallel.overlap_param_gather");
  CHECK(o.errors[0].what == "true with overlap_grad_reduce false and use_distributed_optimizer false");
  CHECK_THAT(o.errors[0].fix, Catch::EndsWith("or overlap_grad_reduce and use_distributed_optimizer to true"));
  j["parallel"]["use_distributed_optimizer"] = true;
  j["parallel"]["use_megatron_fsdp"] = true;
  o = parse(j);
  INFO(describe(o));
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "parallel.overlap_grad_reduce");
}
