// The HTML of the sweep report: static page and script around the data (see
// write_sweep_report for its fields). The page marks <body data-rendered="ok">
// once every chart is drawn and lists script errors in data-errors, so a
// headless browser test can tell a working page from a broken one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hcpsim {

std::string sweep_report_page(const nlohmann::json& data, const char* chartjs_source);

}  // namespace hcpsim
