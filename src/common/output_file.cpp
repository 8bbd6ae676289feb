#include "common/output_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

namespace hcpsim {

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw OutputFileError("cannot write \"" + path + "\": " + std::strerror(errno));
  const bool wrote = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!wrote || !flushed || !closed) {
    std::remove(tmp.c_str());
    throw OutputFileError("cannot write \"" + path + "\": " + std::strerror(saved_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw OutputFileError("cannot write \"" + path + "\": " + std::strerror(e));
  }
}

void check_writable(const std::string& path) {
  std::error_code ec;
  if ((!path.empty() && path.back() == '/') || std::filesystem::is_directory(path, ec))
    throw OutputFileError("cannot write \"" + path + "\": it is a folder; name a file in it, e.g. \"" +
                          (path.back() == '/' ? path : path + "/") + "result.json\"");
  std::string dir = path;
  const size_t slash = dir.find_last_of('/');
  dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (::access(dir.c_str(), W_OK) != 0)
    throw OutputFileError("cannot write \"" + path + "\": folder \"" + dir + "\": " + std::strerror(errno));
}

}  // namespace hcpsim
