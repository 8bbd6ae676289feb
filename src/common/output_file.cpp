#include "common/output_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace hcpsim {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, int err) {
  throw OutputFileError("cannot write \"" + path + "\": " + std::strerror(err));
}

// The file a path names once its symbolic links are followed (a dangling link: the file it would
// create). Writing there keeps the link a link.
std::string resolved(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    const fs::path c = fs::canonical(path, ec);
    if (!ec) return c.string();
  }
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {  // Linux's own limit on links in a path (ELOOP)
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return p.string();
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) fail(path, ec.value());
    p = to.is_absolute() ? to : p.parent_path() / to;
  }
  fail(path, ELOOP);
}

// The open file descriptor a path names by number: /dev/stdout, /dev/stderr, /dev/fd/N,
// /proc/self/fd/N; -1 for any other path. Written through the descriptor, such a path keeps what
// the shell opened: a file redirected to (>, >>) is neither reopened, truncated nor replaced.
int descriptor_of(const std::string& path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const std::string prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    if (path.rfind(prefix, 0) != 0) continue;
    const std::string n = path.substr(prefix.size());
    if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoi(n);
  }
  return -1;
}

// Whether `path` exists and is not a regular file: a device (/dev/null, /dev/full), a FIFO, a
// socket. Such a file cannot be replaced by a rename; it is written to as a stream.
bool is_special(const std::string& path) {  // stat follows links, /proc's to pipes too
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

// Writes `content` through `f` and closes it; false with errno set on any failure.
bool write_and_close(FILE* f, std::string_view content, bool sync, int& err) {
  const bool wrote = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  bool flushed = std::fflush(f) == 0;
  if (flushed && sync) flushed = ::fsync(::fileno(f)) == 0;
  err = errno;
  const bool closed = std::fclose(f) == 0;
  if (wrote && flushed && !closed) err = errno;
  return wrote && flushed && closed;
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  // Two streams (/dev/stdout, /dev/null, a FIFO) are written in place, never replaced: two outputs
  // there are a shell's business (> log 2>&1). A stream and a file may still be one (stdout
  // redirected to the file the other output would replace): that is asked of the file system.
  const auto stream = [](const std::string& p) { return descriptor_of(p) >= 0 || is_special(p); };
  if (stream(a) && stream(b)) return false;
  std::error_code ec, ea, eb;
  if (fs::equivalent(a, b, ec) && !ec) return true;  // one existing file, by any links
  // Not both there yet (two outputs): the same path once its folders' links are followed.
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

void write_file_atomically(const std::string& given, std::string_view content) {
  if (const int fd = descriptor_of(given); fd >= 0) {
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(given, n < 0 ? errno : EIO);
      p += n, left -= size_t(n);
    }
    return;
  }
  if (is_special(given)) {  // a stream: written in place, its errors (e.g. /dev/full's) reported
    FILE* f = std::fopen(given.c_str(), "wb");
    if (!f) fail(given, errno);
    int err = 0;
    if (!write_and_close(f, content, false, err)) fail(given, err);
    return;
  }
  const std::string path = resolved(given);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(given, errno);
  int err = 0;
  if (!write_and_close(f, content, true, err)) {
    std::remove(tmp.c_str());
    fail(given, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    fail(given, e);
  }
}

void check_writable(const std::string& given) {
  std::error_code ec;
  if ((!given.empty() && given.back() == '/') || fs::is_directory(given, ec))
    throw OutputFileError("cannot write \"" + given + "\": it is a folder; name a file in it, e.g. \"" +
                          (given.back() == '/' ? given : given + "/") + "result.json\"");
  if (const int fd = descriptor_of(given); fd >= 0) {
    if (::fcntl(fd, F_GETFL) == -1) fail(given, errno);  // not open
    return;
  }
  if (is_special(given)) {
    if (::access(given.c_str(), W_OK) != 0) fail(given, errno);
    return;
  }
  const std::string path = resolved(given);
  std::string dir = path;
  const size_t slash = dir.find_last_of('/');
  dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (::access(dir.c_str(), W_OK) != 0)
    throw OutputFileError("cannot write \"" + given + "\": folder \"" + dir + "\": " + std::strerror(errno));
}

}  // namespace hcpsim
