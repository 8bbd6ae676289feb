// Typed, range-checked reading of one JSON object, recording every problem in a
// DiagnosticSink with its dotted path instead of throwing at the first one.
// Unknown keys are errors with a "did you mean" suggestion.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/diagnostics.hpp"

namespace hcpsim {

// Closest candidate to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

class ObjectReader {
 public:
  // `obj` may be any JSON value; a non-object records a type error and reads as empty.
  ObjectReader(const nlohmann::json& obj, std::string path, DiagnosticSink& sink, std::vector<std::string> known_keys);

  bool has(const std::string& key) const;
  std::string path_of(const std::string& key) const;
  const nlohmann::json* raw(const std::string& key) const;

  // Each getter returns nullopt when the key is absent or its value is invalid
  // (the latter is recorded as an error).
  std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max, std::string_view hint = {});
  std::optional<double> number(const std::string& key, double min, double max, std::string_view hint = {});
  std::optional<bool> boolean(const std::string& key);
  std::optional<std::string> string(const std::string& key);
  // `hint`: the fix for an element out of range (default: use a positive group size).
  std::optional<std::vector<int64_t>> integer_list(const std::string& key, int64_t min, int64_t max,
                                                   std::string_view hint = {});
  // A sub-object (nullptr when absent; a non-object is recorded as an error).
  const nlohmann::json* object(const std::string& key);
  // A reader of the sub-object at `key`, recording into the same sink; an absent or broken
  // one reads as empty.
  ObjectReader child(const std::string& key, std::vector<std::string> known_keys);

  // One of a fixed set of strings; `aliases` are known misspellings with their own fix text.
  template <class E>
  std::optional<E> choice(const std::string& key, std::initializer_list<std::pair<const char*, E>> options,
                          std::initializer_list<std::pair<const char*, const char*>> aliases = {}) {
    return choice_of(key, options, aliases);
  }
  template <class E>
  std::optional<E> choice(const std::string& key, const std::vector<std::pair<std::string, E>>& options,
                          std::initializer_list<std::pair<const char*, const char*>> aliases = {}) {
    return choice_of(key, options, aliases);
  }

  DiagnosticSink& sink() { return sink_; }

 private:
  std::optional<std::string> choice_name(const std::string& key, const std::vector<std::string>& names,
                                         std::initializer_list<std::pair<const char*, const char*>> aliases);
  template <class Options>
  auto choice_of(const std::string& key, const Options& options,
                 std::initializer_list<std::pair<const char*, const char*>> aliases)
      -> std::optional<std::decay_t<decltype(options.begin()->second)>>;
  const nlohmann::json* obj_ = nullptr;
  std::string path_;
  DiagnosticSink& sink_;
};

template <class Options>
auto ObjectReader::choice_of(const std::string& key, const Options& options,
                             std::initializer_list<std::pair<const char*, const char*>> aliases)
    -> std::optional<std::decay_t<decltype(options.begin()->second)>> {
  std::vector<std::string> names;
  for (const auto& o : options) names.emplace_back(o.first);
  auto name = choice_name(key, names, aliases);
  if (!name) return std::nullopt;
  for (const auto& o : options)
    if (*name == o.first) return o.second;
  return std::nullopt;
}

// {to_string(v), v} for each of `values`: the choices of an enum whose names one place defines.
template <class E, size_t N>
std::vector<std::pair<std::string, E>> named_choices(const E (&values)[N]) {
  std::vector<std::pair<std::string, E>> out;
  for (const E& v : values) out.emplace_back(to_string(v), v);
  return out;
}

}  // namespace hcpsim
