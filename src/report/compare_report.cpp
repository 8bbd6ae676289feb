#include "report/compare_report.hpp"

#include "common/output_file.hpp"
#include "common/strprintf.hpp"
#include "compare/figures.hpp"
#include "report/chartjs.hpp"
#include "report/html_page.hpp"

namespace hcpsim {

namespace {

constexpr double kSecondsPerDay = 86400;

const char* kCompareScript = R"js(
const withPrice = DATA.options.filter(o => o.layout && o.cost !== null);
const yIsCost = withPrice.length > 0;
const palette = ['#3b7dd8', '#d62728', '#6aa84f', '#f0a030', '#8c6bb1', '#17becf', '#7f7f7f', '#bcbd22'];
function costTime() {
  const shown = DATA.options.filter(o => o.layout && (!yIsCost || o.cost !== null));
  const y = o => yIsCost ? o.cost : o.gpu_hours, yBand = o => yIsCost ? o.cost_band : o.gpu_hours_band;
  const datasets = [];
  shown.forEach((o, i) => {
    const c = palette[i % palette.length];
    datasets.push({ label: o.name + (o.winner ? ' (recommended)' : ''), data: [{ x: o.days, y: y(o) }], backgroundColor: c,
                    borderColor: c, pointRadius: o.winner ? 9 : 7, pointStyle: o.winner ? 'rectRot' : 'circle' });
    // the bands: time (horizontal) and cost or GPU-hours (vertical), drawn as lines through the point
    const band = (a, b) => ({ label: '', data: [a, b], showLine: true, borderColor: c, borderWidth: 2, pointRadius: 0 });
    datasets.push(band({ x: o.days_band[0], y: y(o) }, { x: o.days_band[1], y: y(o) }));
    datasets.push(band({ x: o.days, y: yBand(o)[0] }, { x: o.days, y: yBand(o)[1] }));
  });
  new Chart(document.getElementById('cost-time'), {
    type: 'scatter', data: { datasets },
    options: { scales: { x: { beginAtZero: true, title: { display: true, text: 'time to train, days' } },
                         y: { beginAtZero: true, title: { display: true, text: yIsCost ? 'cost (the study\'s prices)' : 'GPU-hours' } } },
               plugins: { legend: { labels: { filter: item => item.text !== '' } },
                          title: { display: true, text: (yIsCost ? 'Cost' : 'GPU-hours') + ' against time to train (bars: each prediction\'s band; lower left is better)' } } }
  });
  const left = DATA.options.filter(o => o.layout && yIsCost && o.cost === null).map(o => o.name);
  document.getElementById('cost-time-note').textContent = left.length ? 'Not on the chart (no price): ' + left.join(', ') : '';
  document.body.dataset.points = shown.length;
}
function bars() {
  const rows = DATA.options.filter(o => o.layout);
  const labels = rows.map(o => o.name + ' (' + o.gpus + ' GPUs)');
  new Chart(document.getElementById('bars'), {
    type: 'bar',
    data: { labels, datasets: [
      { label: 'time to train, days', data: rows.map(o => o.days), backgroundColor: '#3b7dd8', xAxisID: 'days' },
      { label: 'tokens/s per GPU', data: rows.map(o => o.tokens_per_s_per_gpu), backgroundColor: '#6aa84f', xAxisID: 'tps' } ] },
    options: { indexAxis: 'y', scales: { days: { position: 'top', beginAtZero: true, title: { display: true, text: 'days' } },
                                         tps: { position: 'bottom', beginAtZero: true, title: { display: true, text: 'tokens/s per GPU' },
                                                grid: { drawOnChartArea: false } },
                                         y: { ticks: { autoSkip: false } } } }
  });
  document.getElementById('bars-box').style.height = (120 + 44 * rows.length) + 'px';
}
function optionsTable() {
  const t = document.getElementById('options');
  const head = ['rank', 'option', 'GPUs', 'best layout', 'tok/s/GPU', 'MFU %', 'days', 'band', 'GPU-hours', 'cost', 'MWh', 'headroom GB'];
  const tr = el('tr'); head.forEach(h => tr.appendChild(el('th', {}, h))); t.appendChild(tr);
  for (const o of DATA.options) {
    const row = el('tr', { class: o.winner ? 'pick' : (o.layout ? '' : 'nofit') });
    const cells = o.layout ? [o.rank, o.name, o.gpus, o.layout, fmt(o.tokens_per_s_per_gpu, 1), fmt(100 * o.mfu, 1), amount(o.days),
                              amount(o.days_band[0]) + '-' + amount(o.days_band[1]), amount(o.gpu_hours),
                              o.cost === null ? '-' : amount(o.cost), o.energy_mwh === null ? '-' : amount(o.energy_mwh),
                              fmt(o.headroom_gb, 1)]
                           : ['-', o.name, o.gpus, 'none: ' + o.none_why, '', '', '', '', '', '', '', ''];
    cells.forEach(c => row.appendChild(el('td', {}, c)));
    t.appendChild(row);
  }
}
document.getElementById('title').textContent = 'hcpsim compare: ' + DATA.title;
document.getElementById('summary').textContent = DATA.summary;
document.getElementById('pick').textContent = 'Recommendation: ' + DATA.recommendation;
costTime(); bars(); optionsTable();
if (DATA.timeline) {
  document.getElementById('timeline-title').textContent = DATA.timeline_label + ': one layer, forward and backward, ' +
    DATA.timeline.ranks_shown + ' of ' + DATA.timeline.ranks_simulated + ' simulated ranks';
  const box = document.getElementById('timeline-box');
  box.style.height = (60 + 16 * DATA.timeline.tracks.length) + 'px';
  timeline({ timeline: DATA.timeline }, document.getElementById('timeline'));
}
if (errors.length === 0) document.body.dataset.rendered = 'ok';
)js";

}  // namespace

void write_compare_report(const std::string& dir, const Study& st, const ComparePlan& plan, const SweepOutcome& o,
                          const CompareResult& r, const std::optional<LayerTimeline>& winner_timeline) {
  nlohmann::json data;
  data["title"] = st.name;
  const Scenario& any = st.options.front().base;
  data["summary"] = any.model.name + ", seq " + std::to_string(st.seq_length) + ", global batch " +
                    std::to_string(st.global_batch_size) + " sequences, " + to_string(any.training.precision) +
                    ", attention " + to_string(any.software.attention_backend) + "; token budget " +
                    token_count_words(st.token_budget) + " tokens" +
                    (st.prices_source.empty() ? "" : "\nprices: " + st.prices_source);
  data["recommendation"] = r.recommendation;
  nlohmann::json options = nlohmann::json::array();
  int rank = 0;
  for (int oi : r.ranking) {
    const OptionVerdict& v = r.verdicts[oi];
    const StudyOption& so = st.options[oi];
    nlohmann::json j = {{"name", so.name}, {"winner", oi == r.ranking.front() && v.row >= 0}};
    if (v.row < 0) {
      j["layout"] = nullptr;
      j["none_why"] = v.none_why;
      j["gpus"] = std::to_string(so.base.cluster.world_size());
    } else {
      const CompareGroup& g = plan.groups[v.group];
      const SweepRow& row = o.rows[v.row];
      const TrainingEconomics& e = v.econ;
      j["rank"] = ++rank;
      j["gpus"] = g.subset ? std::to_string(g.gpus_used) + " of " + std::to_string(g.gpus_paid) : std::to_string(g.gpus_paid);
      j["layout"] = row.label;
      j["tokens_per_s_per_gpu"] = row.result->step->tokens_per_s_per_gpu;
      j["mfu"] = row.result->step->mfu;
      j["days"] = e.time_s / kSecondsPerDay;
      j["days_band"] = {e.time_s_band.first / kSecondsPerDay, e.time_s_band.second / kSecondsPerDay};
      j["gpu_hours"] = e.gpu_hours;
      j["gpu_hours_band"] = {e.gpu_hours_band.first, e.gpu_hours_band.second};
      j["cost"] = e.cost ? nlohmann::json(*e.cost) : nlohmann::json(nullptr);
      j["cost_band"] = {e.cost_band.first, e.cost_band.second};
      j["energy_mwh"] = e.energy_mwh ? nlohmann::json(*e.energy_mwh) : nlohmann::json(nullptr);
      j["headroom_gb"] = row.headroom_gb();
    }
    options.push_back(j);
  }
  data["options"] = options;
  if (winner_timeline && r.verdicts[r.ranking.front()].row >= 0) {
    data["timeline"] = to_json(*winner_timeline);
    data["timeline_label"] = st.options[r.ranking.front()].name + ", " + o.rows[r.verdicts[r.ranking.front()].row].label;
  }
  std::string b = "<h1 id=\"title\"></h1>\n<pre id=\"summary\"></pre>\n<pre id=\"pick\"></pre>\n";
  b += "<h2>Cost and time to train</h2>\n<div class=\"chart\" style=\"height:460px\"><canvas id=\"cost-time\"></canvas></div>\n"
       "<p id=\"cost-time-note\"></p>\n";
  b += "<h2>Per option</h2>\n<div class=\"chart\" id=\"bars-box\"><canvas id=\"bars\"></canvas></div>\n";
  b += "<h2 id=\"timeline-title\">The winning layout's timeline</h2>\n<div class=\"chart\" id=\"timeline-box\"><canvas "
       "id=\"timeline\"></canvas></div>\n";
  b += "<h2>Options</h2>\n<table id=\"options\"></table>\n";
  write_file_atomically(dir + "/index.html",
                        report_page("hcpsim compare: " + st.name, b, data, kCompareScript, chartjs_source()));
}

}  // namespace hcpsim
