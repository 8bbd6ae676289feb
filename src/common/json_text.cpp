#include "common/json_text.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace hcpsim {

namespace {

// nlohmann reports the byte offset just past the offending character (1-based).
void line_and_column(std::string_view text, size_t byte, size_t& line, size_t& column) {
  line = 1;
  column = 1;
  const size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
}

// Where the parser is, to name a repeated key by its JSON path: one frame per open object (its keys
// so far, the current one) or array (the current element's index).
struct OpenContainer {
  bool array = false;
  int64_t index = 0;
  std::string key;
  std::set<std::string> keys;
};

std::string path_of(const std::string& base, const std::vector<OpenContainer>& open, const std::string& key) {
  std::string path = base;
  for (size_t i = 0; i + 1 < open.size(); ++i)
    path += open[i].array ? "[" + std::to_string(open[i].index) + "]" : (path.empty() ? "" : ".") + open[i].key;
  return path + (path.empty() ? "" : ".") + key;
}

// The offset of the first '[' or '{' that opens a level deeper than `most` (outside strings), or npos.
// A value nested that deep is no input of hcpsim's, and printing it back (nlohmann's dump recurses)
// would overflow the stack: such text is refused before it is parsed.
size_t too_deep_at(std::string_view text, size_t most) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > most) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<nlohmann::json> parse_json_text(std::string_view text, const std::string& source,
                                              const std::string& json_path, DiagnosticSink& sink) {
  if (const size_t at = too_deep_at(text, kMaxJsonDepth); at != std::string_view::npos) {
    size_t line = 0, column = 0;
    line_and_column(text, at + 1, line, column);
    sink.error(json_path,
               source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": nested more than " +
                   std::to_string(kMaxJsonDepth) + " levels deep",
               "at most " + std::to_string(kMaxJsonDepth) + " levels of arrays and objects",
               "fix the JSON at line " + std::to_string(line) + ", column " + std::to_string(column));
    return std::nullopt;
  }
  // nlohmann keeps the last of a repeated key: an edit that left two "model" sections would simulate
  // the second without a word. Each repeat is an error at its path.
  std::vector<OpenContainer> open;
  bool repeated = false;
  using Event = nlohmann::json::parse_event_t;
  const auto next_element = [&] {
    if (!open.empty() && open.back().array) ++open.back().index;
  };
  const nlohmann::json::parser_callback_t watch = [&](int, Event event, nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start: open.push_back({}); break;
      case Event::array_start: open.push_back({true}); break;
      case Event::object_end:
      case Event::array_end:
        if (!open.empty()) open.pop_back();
        next_element();
        break;
      case Event::value: next_element(); break;
      case Event::key: {
        const std::string key = parsed.get<std::string>();
        if (!open.empty() && !open.back().keys.insert(key).second) {
          repeated = true;
          sink.error(path_of(json_path, open, key), source + ": \"" + key + "\" appears twice in one object",
                     "JSON object keys are unique (a repeat would silently keep the last)", "keep one of them");
        }
        if (!open.empty()) open.back().key = key;
        break;
      }
    }
    return true;
  };
  try {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), watch, /*allow_exceptions=*/true,
                                             /*ignore_comments=*/false);
    if (repeated) return std::nullopt;
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    size_t line = 0, column = 0;
    line_and_column(text, e.byte, line, column);
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ...";
    // keep only the part after the location.
    std::string msg = e.what();
    if (auto p = msg.find(": "); p != std::string::npos) msg = msg.substr(p + 2);
    sink.error(json_path,
               source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": malformed JSON: " + msg,
               "JSON syntax", "fix the JSON at line " + std::to_string(line) + ", column " + std::to_string(column));
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but a value JSON cannot hold, e.g. a number that overflows a double.
    std::string msg = e.what();
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    sink.error(json_path, source + ": malformed JSON: " + msg, "JSON syntax",
               "write numbers within the range of a 64-bit float");
    return std::nullopt;
  }
}

std::optional<std::string> read_text_file(const std::string& file_path, const std::string& json_path,
                                          DiagnosticSink& sink) {
  std::error_code ec;
  if (std::filesystem::is_directory(file_path, ec)) {
    sink.error(json_path, "\"" + file_path + "\" is a folder, not a file", "file must be a JSON file",
               "name the JSON file in the folder");
    return std::nullopt;
  }
  std::ifstream in(file_path, std::ios::binary);
  if (!in) {
    sink.error(json_path, "cannot open \"" + file_path + "\": " + std::strerror(errno), "file must be readable",
               json_path.empty() || json_path.front() == '-'
                   ? "check the path (a relative path is from the current folder)"
                   : "check the path (relative paths are resolved against the scenario file's folder)");
    return std::nullopt;
  }
  // A device or pipe is read up to kMaxInputBytes: an endless one (/dev/zero) is refused before it
  // takes the machine's memory. A regular file is read whole (a sweep's results over thousands of
  // layouts run to hundreds of MB).
  constexpr std::streamsize kMaxInputBytes = std::streamsize{1} << 28;
  const bool regular = std::filesystem::is_regular_file(file_path, ec);
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (!regular && static_cast<std::streamsize>(text.size()) > kMaxInputBytes) {
      sink.error(json_path, "\"" + file_path + "\" is larger than 256 MiB (or endless)", "a device or pipe gives at most 256 MiB",
                 "name the JSON file hcpsim should read");
      return std::nullopt;
    }
  }
  return text;
}

}  // namespace hcpsim
