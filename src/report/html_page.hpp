// The HTML of the reports (sweep, compare): one self-contained page, Chart.js inlined, the data
// as JSON, and a page script; the shared script has the error hook, Chart.js defaults, colours
// and the layer timeline. A page marks <body data-rendered="ok"> once every chart is drawn and
// lists script errors in data-errors, so a headless browser test can tell a working page from a
// broken one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hcpsim {

// `body_html` is the page's static markup; `page_script` draws it from DATA.
std::string report_page(const std::string& title, const std::string& body_html, const nlohmann::json& data,
                        const char* page_script, const char* chartjs_source);
std::string html_escape(const std::string& s);

// The sweep's page (write_sweep_report gives the data's fields).
std::string sweep_report_page(const nlohmann::json& data, const char* chartjs_source);

}  // namespace hcpsim
