#include "report/html_page.hpp"

namespace hcpsim {

namespace {

// JSON inside <script>: "</" would end the script element.
std::string script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    out += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') out += "\\";
  }
  return out;
}

const char* kStyle = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; } h3 { font-size: 15px; }
pre { background: #f6f6f6; padding: 8px; white-space: pre-wrap; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; }
th:nth-child(2), td:nth-child(2) { text-align: left; }
tr.nofit td { color: #a33; } tr.pick td { font-weight: bold; background: #eef6ee; }
.chart { position: relative; width: 100%; max-width: 1400px; }
)css";

const char* kCommonScript = R"js(
const errors = [];
window.addEventListener('error', e => { errors.push(String(e.message)); document.body.dataset.errors = errors.join(' | '); });
Chart.defaults.animation = false;
Chart.defaults.responsive = true;
Chart.defaults.maintainAspectRatio = false;
const colours = { 'attention': '#3b7dd8', 'compute': '#9bbce8', 'cp comm': '#f0a030', 'tp comm': '#8c6bb1',
                  'dp comm': '#6aa84f', 'exposed': '#d62728' };
const fmt = (x, d) => Number(x).toFixed(d);
// An amount as compare/figures.cpp amount_words writes it in a table: whole from 100, else 3 digits.
const amount = x => Math.abs(x) < 100 ? String(Number(Number(x).toPrecision(3))) : Number(x).toFixed(0);
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function timeline(r, canvas) {
  const tl = r.timeline;
  const kinds = ['attention', 'compute', 'cp comm', 'tp comm', 'dp comm'];
  const datasets = kinds.map(k => ({ label: k, backgroundColor: colours[k], grouped: false, barPercentage: 0.9,
    data: tl.bars.filter(b => b.k === k).map(b => ({ x: [b.s, b.e], y: tl.tracks[b.t], n: b.n })) }))
    .filter(d => d.data.length > 0);
  datasets.push({ label: 'exposed CP comm (no kernel running)', backgroundColor: colours.exposed, grouped: false,
                  barPercentage: 0.9, data: tl.exposed.map(b => ({ x: [b.s, b.e], y: tl.tracks[b.t], n: 'exposed CP comm' })) });
  new Chart(canvas, {
    type: 'bar',
    data: { labels: tl.tracks, datasets },
    options: { indexAxis: 'y',
               scales: { x: { type: 'linear', title: { display: true, text: 'ms since the layer started' } },
                         y: { ticks: { autoSkip: false, font: { size: 10 } } } },
               plugins: { tooltip: { callbacks: { label: c => c.raw.n + ': ' + fmt(c.raw.x[0], 3) + '-' + fmt(c.raw.x[1], 3) + ' ms' } } } }
  });
}
)js";

const char* kSweepScript = R"js(
function table() {
  const t = document.getElementById('ranked');
  const head = ['rank', 'option', 'TPxCPxDP', 'step s', 'tok/s/GPU', 'MFU %', 'attn ms/layer', 'exposed comm ms',
                'peak GB', 'headroom GB'];
  const tr = el('tr'); head.forEach(h => tr.appendChild(el('th', {}, h))); t.appendChild(tr);
  for (const r of DATA.ranked) {
    const row = el('tr', { class: r.recommended ? 'pick' : (r.fits ? '' : 'nofit') });
    const cells = [r.fits ? r.rank : '-', r.label + (r.recommended ? '  (recommended)' : ''),
                   r.layout.tp + 'x' + r.layout.cp + 'x' + r.layout.dp + (r.layout.pp > 1 ? ' PP' + r.layout.pp : ''), fmt(r.step_s, 3), fmt(r.tokens_per_s_per_gpu, 1),
                   fmt(100 * r.mfu, 1), fmt(r.attention_ms, 2), fmt(r.exposed_comm_ms, 2), fmt(r.peak_gb, 1),
                   fmt(r.headroom_gb, 1)];
    cells.forEach(c => row.appendChild(el('td', {}, c)));
    t.appendChild(row);
  }
  const ul = document.getElementById('rejected');
  for (const r of DATA.not_simulated) ul.appendChild(el('li', {}, r.label + ': ' + r.why));
}
// Horizontal bars, one row per configuration (labels down the side never overlap), the best
// DATA.chart_rows of them plus the recommendation: throughput on the top axis, memory
// headroom on the bottom one, which always spans 0 (shortfalls left of it, in red).
const kRowPx = 26;
function overview() {
  const rows = DATA.ranked.filter(r => r.in_chart);
  const labels = rows.map(r => (r.fits ? '#' + r.rank + ' ' : 'does not fit: ') + r.label +
                               (r.recommended ? '  (recommended)' : ''));
  const headroom = rows.map(r => r.headroom_gb);
  const lo = Math.min(0, ...headroom), hi = Math.max(0, ...headroom);
  const pad = 0.05 * ((hi - lo) || 1);
  document.getElementById('overview-box').style.height = (110 + kRowPx * rows.length) + 'px';
  document.getElementById('overview-note').textContent = DATA.ranked.length + ' configurations ranked, the chart shows ' +
    rows.length + (rows.length < DATA.ranked.length ? ' (the best and the recommendation; every one is in the table below)' : '');
  const chart = new Chart(document.getElementById('overview'), {
    type: 'bar',
    data: { labels, datasets: [
      { label: 'tokens/s per GPU', data: rows.map(r => r.tokens_per_s_per_gpu), xAxisID: 'tps',
        backgroundColor: rows.map(r => r.fits ? '#3b7dd8' : '#b9c9e0') },
      { label: 'memory headroom GB (negative: shortfall)', data: headroom, xAxisID: 'gb',
        backgroundColor: headroom.map(h => h >= 0 ? '#6aa84f' : '#d62728') } ] },
    options: { indexAxis: 'y',
               scales: { tps: { position: 'top', beginAtZero: true, title: { display: true, text: 'tokens/s per GPU' } },
                         gb: { position: 'bottom', min: lo - (lo < 0 ? pad : 0), max: hi + pad,
                               title: { display: true, text: 'memory headroom GB' }, grid: { drawOnChartArea: false } },
                         y: { ticks: { autoSkip: false, font: { size: 12 } } } },
               plugins: { title: { display: true, text: 'Throughput and memory headroom per configuration (ranked; pale: does not fit)' } } }
  });
  const area = chart.chartArea;
  document.body.dataset.chartRows = rows.length;
  document.body.dataset.chartRowPx = ((area.bottom - area.top) / Math.max(1, rows.length)).toFixed(1);
  document.body.dataset.headroomAxis = chart.scales.gb.min + ',' + chart.scales.gb.max;
  document.body.dataset.headroomMax = hi;
}
function timelines() {
  const box = document.getElementById('timelines');
  for (const r of DATA.ranked.filter(r => r.timeline)) {
    box.appendChild(el('h3', {}, (r.fits ? '#' + r.rank + ' ' : '') + r.label + (r.recommended ? ' (recommended)' : '') +
      ': one layer, forward and backward, ' +
      r.timeline.ranks_shown + ' of ' + r.timeline.ranks_simulated + ' simulated ranks'));
    const div = el('div', { class: 'chart', style: 'height:' + (60 + 16 * r.timeline.tracks.length) + 'px' });
    const canvas = el('canvas', { class: 'timeline' });
    div.appendChild(canvas); box.appendChild(div);
    timeline(r, canvas);
  }
}
document.getElementById('title').textContent = 'hcpsim sweep: ' + DATA.scenario;
document.getElementById('summary').textContent = DATA.summary;
document.getElementById('pick').textContent = 'Recommendation: ' + (DATA.recommendation.label || 'none') + '\n' +
                                               DATA.recommendation.reasons;
table(); overview(); timelines();
if (errors.length === 0) document.body.dataset.rendered = 'ok';
)js";

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}


std::string report_page(const std::string& title, const std::string& body_html, const nlohmann::json& data,
                        const char* page_script, const char* chartjs_source) {
  std::string h = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + html_escape(title) +
                  "</title>\n<style>" + kStyle + "</style>\n";
  h += "<script>\n" + std::string(chartjs_source) + "\n</script>\n</head>\n<body>\n" + body_html;
  h += "<script>\nconst DATA = " + script_safe(data.dump()) + ";\n" + kCommonScript + page_script + "</script>\n</body></html>\n";
  return h;
}

std::string sweep_report_page(const nlohmann::json& data, const char* chartjs_source) {
  std::string b = "<h1 id=\"title\"></h1>\n<pre id=\"summary\"></pre>\n<pre id=\"pick\"></pre>\n";
  b += "<h2>Throughput and memory headroom</h2>\n<p id=\"overview-note\"></p>\n"
       "<div class=\"chart\" id=\"overview-box\"><canvas id=\"overview\"></canvas></div>\n";
  b += "<h2>Timelines of the top configurations and the recommendation</h2>\n<div id=\"timelines\"></div>\n";
  b += "<h2>Ranked configurations</h2>\n<table id=\"ranked\"></table>\n<h2>Not simulated</h2>\n<ul id=\"rejected\"></ul>\n";
  return report_page("hcpsim sweep: " + data.value("scenario", std::string()), b, data, kSweepScript, chartjs_source);
}

}  // namespace hcpsim
