#include "common/json_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/join_words.hpp"

namespace hcpsim {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

const char* type_name(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

std::string show(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// "a string \"x\"", "null": what a value is, for "must be ..., got <this>".
std::string got(const nlohmann::json& v) { return v.is_null() ? std::string("null") : type_name(v) + std::string(" ") + show(v); }

std::string fmt_int(int64_t v) { return std::to_string(v); }

}  // namespace

std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A typo is a few edits relative to the word's length.
  const size_t limit = std::max<size_t>(2, std::min(word.size(), best ? best->size() : 0) / 3);
  if (best && best_d <= limit) return best;
  return std::nullopt;
}

ObjectReader::ObjectReader(const nlohmann::json& obj, std::string path, DiagnosticSink& sink,
                           std::vector<std::string> known_keys)
    : path_(std::move(path)), sink_(sink) {
  if (!obj.is_object()) {
    sink_.error(path_, std::string("must be an object, got ") + got(obj), "type",
                "write it as { \"key\": value, ... }");
    return;
  }
  obj_ = &obj;
  for (const auto& item : obj.items()) {
    if (std::find(known_keys.begin(), known_keys.end(), item.key()) != known_keys.end()) continue;
    std::string fix;
    if (auto s = did_you_mean(item.key(), known_keys)) {
      fix = "did you mean \"" + *s + "\"?";
      if (!has(*s)) sink_.mark_spoiled(path_of(*s));  // the meant key reads as its default
    } else {
      fix = "remove it; known keys here: " + join_words(known_keys, "and");
    }
    sink_.non_blocking_error(path_of(item.key()), "unknown key \"" + item.key() + "\"", "unknown keys are errors", fix);
  }
}

bool ObjectReader::has(const std::string& key) const { return obj_ && obj_->contains(key); }

// A path that ends in ": " names a file ("shard1.json: "): its keys follow without a dot.
std::string ObjectReader::path_of(const std::string& key) const {
  return path_.empty() || path_.ends_with(": ") ? path_ + key : path_ + "." + key;
}

const nlohmann::json* ObjectReader::raw(const std::string& key) const {
  if (!has(key)) return nullptr;
  return &obj_->at(key);
}

std::optional<int64_t> ObjectReader::integer(const std::string& key, int64_t min, int64_t max, std::string_view hint) {
  const nlohmann::json* v = raw(key);
  if (!v) return std::nullopt;
  const std::string range = "an integer in [" + fmt_int(min) + ", " + fmt_int(max) + "]";
  const std::string fix = hint.empty() ? "use " + range : std::string(hint);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    sink_.error(path_of(key), "value " + show(*v) + " does not fit in 64 bits", "range", fix);
    return std::nullopt;
  }
  // A whole number written in floating point beyond 64 bits (1e30) is out of range, not of the wrong type.
  if (v->is_number_float() && std::isfinite(v->get<double>()) && std::floor(v->get<double>()) == v->get<double>() &&
      std::abs(v->get<double>()) >= 0x1p63) {
    sink_.error(path_of(key), "value " + show(*v) + " does not fit in 64 bits", "range", fix);
    return std::nullopt;
  }
  if (!v->is_number_integer()) {
    sink_.error(path_of(key), std::string("must be an integer, got ") + got(*v), "type", fix);
    return std::nullopt;
  }
  const int64_t x = v->get<int64_t>();
  if (x < min || x > max) {
    sink_.error(path_of(key), "value " + fmt_int(x) + " is out of range", "must be " + range, fix);
    return std::nullopt;
  }
  return x;
}

std::optional<double> ObjectReader::number(const std::string& key, double min, double max, std::string_view hint) {
  const nlohmann::json* v = raw(key);
  if (!v) return std::nullopt;
  char range[128];
  std::snprintf(range, sizeof range, "a number in [%g, %g]", min, max);
  const std::string fix = hint.empty() ? std::string("use ") + range : std::string(hint);
  if (!v->is_number()) {
    sink_.error(path_of(key), std::string("must be a number, got ") + got(*v), "type", fix);
    return std::nullopt;
  }
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    sink_.error(path_of(key), "value " + show(*v) + " is out of range", std::string("must be ") + range, fix);
    return std::nullopt;
  }
  return x;
}

std::optional<bool> ObjectReader::boolean(const std::string& key) {
  const nlohmann::json* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    sink_.error(path_of(key), std::string("must be true or false, got ") + got(*v), "type",
                "write true or false without quotes");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::string> ObjectReader::string(const std::string& key) {
  const nlohmann::json* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    sink_.error(path_of(key), std::string("must be a string, got ") + got(*v), "type",
                "put the value in double quotes");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::vector<int64_t>> ObjectReader::integer_list(const std::string& key, int64_t min, int64_t max,
                                                               std::string_view hint) {
  const nlohmann::json* v = raw(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    sink_.error(path_of(key), std::string("must be a list of integers, got ") + got(*v),
                "type", "write it as [a, b], e.g. [8, 2]");
    return std::nullopt;
  }
  std::vector<int64_t> out;
  bool ok = true;
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& e = (*v)[i];
    const std::string p = path_of(key) + "[" + std::to_string(i) + "]";
    if (!e.is_number_integer()) {
      sink_.error(p, std::string("must be an integer, got ") + got(e), "type",
                  "use an integer in [" + fmt_int(min) + ", " + fmt_int(max) + "]");
      ok = false;
      continue;
    }
    const bool beyond_int64 = e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(max);
    const int64_t x = beyond_int64 ? max : e.get<int64_t>();
    if (beyond_int64 || x < min || x > max) {
      sink_.error(p, "value " + e.dump() + " is out of range",
                  "must be an integer in [" + fmt_int(min) + ", " + fmt_int(max) + "]",
                  hint.empty() ? "use a positive group size" : std::string(hint));
      ok = false;
      continue;
    }
    out.push_back(x);
  }
  if (!ok) return std::nullopt;
  return out;
}

const nlohmann::json* ObjectReader::object(const std::string& key) {
  const nlohmann::json* v = raw(key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    sink_.error(path_of(key), std::string("must be an object, got ") + got(*v), "type",
                "write it as { \"key\": value, ... }");
    return nullptr;
  }
  return v;
}

ObjectReader ObjectReader::child(const std::string& key, std::vector<std::string> known_keys) {
  static const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json* v = object(key);
  return ObjectReader(v ? *v : empty, path_of(key), sink_, std::move(known_keys));
}

std::optional<std::string> ObjectReader::choice_name(const std::string& key, const std::vector<std::string>& names,
                                                     std::initializer_list<std::pair<const char*, const char*>> aliases) {
  auto s = string(key);
  if (!s) return std::nullopt;
  if (std::find(names.begin(), names.end(), *s) != names.end()) return s;
  for (const auto& a : aliases) {
    if (*s == a.first) {
      sink_.error(path_of(key), "\"" + *s + "\" is not accepted", "must be one of " + join_words(names, "or"), a.second);
      return std::nullopt;
    }
  }
  std::string fix = "use one of " + join_words(names, "or");
  if (auto m = did_you_mean(*s, names)) fix = "did you mean \"" + *m + "\"?";
  sink_.error(path_of(key), "unknown value \"" + *s + "\"", "must be one of " + join_words(names, "or"), fix);
  return std::nullopt;
}

}  // namespace hcpsim
