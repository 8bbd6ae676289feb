// Chart.js, embedded at build time (report_html_assets.cmake).
#pragma once

namespace hcpsim {

bool chartjs_embedded();       // false when the build found no chart.min.js
const char* chartjs_source();  // the minified UMD bundle ("" when not embedded)

}  // namespace hcpsim
