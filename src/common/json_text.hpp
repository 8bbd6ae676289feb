// Reading JSON text and files with errors that point at line and column.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/diagnostics.hpp"

namespace hcpsim {

// The deepest nesting of arrays and objects a JSON input may have (hcpsim's own run to about 10).
constexpr size_t kMaxJsonDepth = 256;

// Parses `text`; on a syntax error, or nesting deeper than kMaxJsonDepth, records
// "<source>:<line>:<column>: ..." at `json_path`.
std::optional<nlohmann::json> parse_json_text(std::string_view text, const std::string& source,
                                              const std::string& json_path, DiagnosticSink& sink);

// Reads a whole file; on failure records why at `json_path`.
std::optional<std::string> read_text_file(const std::string& file_path, const std::string& json_path,
                                          DiagnosticSink& sink);

}  // namespace hcpsim
