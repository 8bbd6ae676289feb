#include "results.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace hcpcal {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + tmp);
    f << text;
    f.flush();
    if (!f) throw std::runtime_error("write to " + tmp + " failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

MeasurementLog::MeasurementLog(std::string path, std::vector<std::string> argv, std::string environment)
    : path_(std::move(path)), argv_(std::move(argv)), environment_(std::move(environment)) {
  write(false);
}

void MeasurementLog::add(Record r) {
  records_.push_back(std::move(r));
  write(false);
}

void MeasurementLog::finish() { write(true); }

long long MeasurementLog::total_wrong() const {
  long long n = 0;
  for (const auto& r : records_) n += r.wrong;
  return n;
}

void MeasurementLog::write(bool complete) const {
  std::string t = "{\n  \"format\": \"hcpsim-measurements/1\",\n  \"tool\": \"hcpcal\",\n  \"argv\": [";
  for (size_t i = 0; i < argv_.size(); ++i) t += (i ? ", " : "") + json_string(argv_[i]);
  t += "],\n  \"complete\": " + std::string(complete ? "true" : "false") + ",\n";
  t += "  \"environment\": " + environment_ + ",\n  \"measurements\": [";
  for (size_t i = 0; i < records_.size(); ++i) {
    const Record& r = records_[i];
    t += std::string(i ? "," : "") + "\n    {\"kind\": " + json_string(r.kind) + ", \"backend\": " + json_string(r.backend) +
         ", \"config\": {";
    for (size_t c = 0; c < r.config.size(); ++c)
      t += (c ? ", " : "") + json_string(r.config[c].first) + ": " + r.config[c].second;
    t += "}, \"iterations\": " + std::to_string(r.iterations) + ", \"median_s\": " + json_number(r.median_s) +
         ", \"min_s\": " + json_number(r.min_s) + ", \"max_s\": " + json_number(r.max_s) +
         (r.sm_clock_mhz > 0 ? ", \"sm_clock_mhz\": " + json_number(r.sm_clock_mhz) : std::string()) +
         ", \"check\": {\"done\": " +
         (r.checked ? "true" : "false") + ", \"wrong\": " + std::to_string(r.wrong) + "}";
    if (!r.results.empty()) {
      t += ", \"results\": {";
      for (size_t c = 0; c < r.results.size(); ++c)
        t += (c ? ", " : "") + json_string(r.results[c].first) + ": " + r.results[c].second;
      t += "}";
    }
    t += "}";
  }
  t += "\n  ]\n}\n";
  write_atomically(path_, t);
}

}  // namespace hcpcal
