// Reading a study: the job on each option, fabric variants, power defaults, and errors at their
// paths in the study file; the plan's subset of a GPU count that is not a power of two.
#include <catch2/catch.hpp>

#include "compare/compare.hpp"
#include "compare/study.hpp"
#include "scenario/presets.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

json study_doc() {
  return json::parse(R"({
    "name": "t",
    "job": {"model": {"preset": "llama3.1-8b"},
            "training": {"seq_length": 32768, "global_batch_tokens": 262144, "precision": "bf16"},
            "token_budget": 1e9},
    "prices_source": "test",
    "options": [
      {"name": "A", "cluster": {"preset": "dgx-h100", "num_nodes": 2}, "price_per_gpu_hour": 2.0,
       "fabric_variants": [{"name": "2:1", "cluster": {"inter_node": {"oversubscription": 2}}}]},
      {"name": "B", "cluster": {"preset": "gb200-nvl72", "num_nodes": 1}, "power": {"per_gpu_w": 1200, "pue": 1.2}}
    ]})");
}

std::vector<Diagnostic> errors_of(const json& doc) {
  try {
    (void)parse_study_text(doc.dump(), ParseOptions{});
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  return {};
}

bool has_error(const std::vector<Diagnostic>& ds, const std::string& path) {
  for (const Diagnostic& d : ds)
    if (d.path == path) return true;
  return false;
}

}  // namespace

TEST_CASE("study: options, variants, global batch in tokens, power defaults") {
  const Study st = parse_study_text(study_doc().dump(), ParseOptions{});
  CHECK(st.global_batch_size == 8);  // 262144 / 32768
  CHECK(st.tokens_per_step() == 262144);
  REQUIRE(st.options.size() == 3);   // A, A / 2:1, B
  CHECK(st.options[1].name == "A / 2:1");
  CHECK(st.options[1].base.cluster.inter_node.oversubscription == 2.0);
  CHECK(st.options[0].base.cluster.inter_node.oversubscription == 1.0);
  CHECK(*st.options[1].price_per_gpu_hour == 2.0);  // a variant keeps its option's price
  // A has no power of its own: the preset's maximum power per node over its 8 GPUs (per GPU, so that
  // a node of another size, gpus_per_node overridden, draws for the GPUs it has).
  REQUIRE(st.options[0].power.has_value());
  CHECK(st.options[0].power->per_gpu_w == Approx(find_cluster_preset("dgx-h100")->node_max_power_w / 8));
  CHECK(st.options[0].power->per_node_w == 0);
  CHECK(st.options[2].power->per_gpu_w == 1200);
  CHECK(st.options[2].power->pue == 1.2);
  CHECK_FALSE(st.options[2].price_per_gpu_hour.has_value());
  CHECK(st.options[0].base.training.global_batch_size == 8);
}

TEST_CASE("study: errors name their path in the study file") {
  json d = study_doc();
  d["job"]["training"]["global_batch_tokens"] = 100000;  // not a whole number of 32768-token sequences
  CHECK(has_error(errors_of(d), "job.training.global_batch_tokens"));
  d = study_doc();
  d["options"][1]["cluster"]["preset"] = "gb200-nvl73";
  CHECK(has_error(errors_of(d), "options[1].cluster.preset"));
  d = study_doc();
  d.erase("prices_source");  // a price without its source
  CHECK(has_error(errors_of(d), "prices_source"));
  d = study_doc();
  d["options"][1]["power"] = {{"per_gpu_w", 1000}, {"per_node_w", 72000}};
  CHECK(has_error(errors_of(d), "options[1].power"));
  d = study_doc();
  d["job"]["model"]["preset"] = "llama9";  // a job error is reported once, at the job
  const auto es = errors_of(d);
  CHECK(has_error(es, "job.model.preset"));
  int count = 0;
  for (const Diagnostic& e : es) count += e.path == "job.model.preset";
  CHECK(count == 1);
  d = study_doc();
  d["job"].erase("model");  // reported by the study, not again by the first option's scenario
  count = 0;
  for (const Diagnostic& e : errors_of(d)) count += e.path == "job.model";
  CHECK(count == 1);
  d = study_doc();
  d["options"][0]["price_per_gpu_hour"] = 0;  // a price is positive
  CHECK(has_error(errors_of(d), "options[0].price_per_gpu_hour"));
  d = study_doc();
  d["options"][0]["cluster"]["preset"] = "dgx-h1000";  // reported at the option, not again at its variant
  const auto once = errors_of(d);
  CHECK(has_error(once, "options[0].cluster.preset"));
  CHECK_FALSE(has_error(once, "options[0].fabric_variants[0].cluster.preset"));
  d = study_doc();
  d["job"]["training"]["micro_batch_size"] = 2;  // swept, not given
  CHECK(has_error(errors_of(d), "job.training.micro_batch_size"));
  d = study_doc();
  d["options"][1]["name"] = "A";  // two rows of one name
  CHECK(has_error(errors_of(d), "options[1].name"));
  d = study_doc();
  d["options"][1]["name"] = "A / 2:1";  // a name an option's variant already has
  CHECK(has_error(errors_of(d), "options[1].name"));
  for (const char* blank : {"", "  "}) {  // a row and sentences of no subject
    d = study_doc();
    d["options"][0]["name"] = blank;
    CHECK(has_error(errors_of(d), "options[0].name"));
  }
  d = study_doc();
  d["job"]["training"]["precision"] = "fp8";  // the job's fp8 recipe, validated on each option's GPU
  d["job"]["training"]["fp8_recipe"] = "tensorwise";
  d["job"]["training"]["fp8_param_gather"] = true;
  CHECK(errors_of(d).empty());
  d["job"]["training"]["fp8_recipe"] = "mxfp8";  // not on option A's H100s
  CHECK(has_error(errors_of(d), "job.training.fp8_recipe"));
  for (const Diagnostic& e : errors_of(d))  // a job key valid on one option's GPU and not another's names the option
    if (e.path == "job.training.fp8_recipe") CHECK(e.what.find("on options[0] (\"A\")") != std::string::npos);
  d = study_doc();  // Megatron-FSDP and activation offloading are the job's, every option's scenario has them
  d["job"]["parallel"] = {{"use_megatron_fsdp", true}};
  d["job"]["training"]["cpu_offloading_num_layers"] = 4;
  CHECK(errors_of(d).empty());
  {
    const Study st = parse_study_text(d.dump(), ParseOptions{});
    for (const StudyOption& o : st.options) {
      CHECK(o.base.parallel.use_megatron_fsdp);
      CHECK(o.base.training.cpu_offloading_num_layers == 4);
    }
  }
  // Their rules that no layout changes are the job's errors, not every candidate's rejection: all 32
  // of Llama-3.1-8B's layers offloaded; FSDP under MXFP8 (on option B's GB200s, which run MXFP8).
  d["job"]["training"]["cpu_offloading_num_layers"] = 32;
  CHECK(has_error(errors_of(d), "job.training.cpu_offloading_num_layers"));
  d["job"]["training"]["cpu_offloading_num_layers"] = 4;
  d["options"].erase(0);
  d["job"]["training"]["precision"] = "fp8";
  d["job"]["training"]["fp8_recipe"] = "mxfp8";
  CHECK(has_error(errors_of(d), "job.parallel.use_megatron_fsdp"));
  d = study_doc();  // the job's pipeline split (Llama-3.1-405B's: embedding and loss as layers)
  d["job"]["parallel"] = {{"account_for_embedding_in_pipeline_split", true}, {"account_for_loss_in_pipeline_split", true}};
  CHECK(errors_of(d).empty());
  {
    const Study st = parse_study_text(d.dump(), ParseOptions{});
    for (const StudyOption& o : st.options) {  // every option's scenario splits its layers so
      CHECK(o.base.parallel.account_for_embedding_in_pipeline_split);
      CHECK(o.base.parallel.account_for_loss_in_pipeline_split);
    }
  }
  d["job"]["parallel"]["tensor_model_parallel_size"] = 8;  // the layout is what compare sweeps
  CHECK(has_error(errors_of(d), "job.parallel.tensor_model_parallel_size"));
  d["job"]["parallel"].erase("tensor_model_parallel_size");
  d["job"]["parallel"]["account_for_loss_in_pipeline_split"] = "yes";
  CHECK(has_error(errors_of(d), "job.parallel.account_for_loss_in_pipeline_split"));
  d = study_doc();  // a variant that swaps the GPU would be priced as its option's
  d["options"][0]["fabric_variants"][0]["cluster"]["preset"] = "dgx-h200";
  CHECK(has_error(errors_of(d), "options[0].fabric_variants[0].cluster.preset"));
  d = study_doc();
  d["options"][0]["fabric_variants"][0]["cluster"]["gpu"] = {{"memory_GB", 141}};
  CHECK(has_error(errors_of(d), "options[0].fabric_variants[0].cluster.gpu"));
  d = study_doc();  // training runs whole steps: a budget of less than one global batch (262144 tokens)
  d["job"]["token_budget"] = 1000;
  CHECK(has_error(errors_of(d), "job.token_budget"));
  d["job"]["token_budget"] = 262144;  // one step
  CHECK(errors_of(d).empty());
  d = study_doc();  // naming the option's own preset again changes nothing
  d["options"][0]["fabric_variants"][0]["cluster"]["preset"] = d["options"][0]["cluster"]["preset"];
  CHECK(errors_of(d).empty());
  // Another GPU count a node is another node, whose power per node the option's is not (a variant
  // of 4-GPU nodes took the 8-GPU node's per_node_w: twice the energy); the preset's own 8 is none.
  d = study_doc();
  d["options"][0]["fabric_variants"][0]["cluster"]["gpus_per_node"] = 4;
  CHECK(has_error(errors_of(d), "options[0].fabric_variants[0].cluster.gpus_per_node"));
  d["options"][0]["fabric_variants"][0]["cluster"]["gpus_per_node"] = 8;
  CHECK(errors_of(d).empty());
}

TEST_CASE("compare plan: a GPU count that is not a power of two adds the largest power-of-two subset") {
  json d = study_doc();
  d["options"] = json::array({{{"name", "NVL72 x2"}, {"cluster", {{"preset", "gb200-nvl72"}, {"num_nodes", 2}}}},
                              {{"name", "H100 x3"}, {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 3}}}},
                              {{"name", "H100 x4"}, {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 4}}}}});
  d.erase("prices_source");
  const Study st = parse_study_text(d.dump(), ParseOptions{});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  // 144 GPUs -> 2 racks x 64 = 128 (NICs scale with the GPUs: 64 per rack); 24 -> 2 nodes x 8 = 16; 32: none.
  REQUIRE(plan.groups.size() == 5);
  CHECK(plan.groups[0].gpus_used == 144);
  CHECK(plan.groups[1].subset);
  CHECK(plan.groups[1].gpus_used == 128);
  CHECK(plan.groups[1].gpus_paid == 144);
  CHECK(plan.groups[1].base.cluster.gpus_per_node == 64);
  CHECK(plan.groups[1].base.cluster.inter_node.nics_per_node == 64);
  CHECK(plan.groups[3].subset);
  CHECK(plan.groups[3].gpus_used == 16);
  CHECK(plan.groups[3].gpus_paid == 24);
  CHECK_FALSE(plan.groups[4].subset);
  // Every candidate key begins with its group's prefix, and the groups' keys do not collide.
  for (const SweepCandidate& c : plan.space.candidates) CHECK(c.key.rfind("o", 0) == 0);
  int in_subset = 0;
  for (const SweepCandidate& c : plan.space.candidates) in_subset += c.key.rfind("o1s.", 0) == 0;
  CHECK(in_subset > 0);
}
