// An LD_PRELOAD library that makes chosen file-system calls fail, for tests of what a
// program does when the disk says no (SECURITY C16: injected fsync and rename failures).
//
//   IZYPOP3_FAULT=OP:TEXT:N   OP is fsync (also fdatasync), syncfs or rename (rename,
//                             renameat, renameat2, link); the N-th call (from 1) whose path contains
//                             TEXT (ends with it, when TEXT starts with '=') fails with EIO,
//                             or every such call when N is 0.
//
// For fsync and syncfs the path is the one /proc/self/fd names for the descriptor. Nothing else is
// changed; without IZYPOP3_FAULT every call goes straight to the C library.

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct fault_rule {
    std::string op, text;
    long nth = -1;  // -1: no rule
};

const fault_rule& rule() {
    static const fault_rule r = [] {
        fault_rule out;
        const char* spec = std::getenv("IZYPOP3_FAULT");
        if (spec == nullptr) return out;
        std::string s(spec);
        const auto a = s.find(':');
        const auto b = s.rfind(':');
        if (a == std::string::npos || b == a) return out;
        out.op = s.substr(0, a);
        out.text = s.substr(a + 1, b - a - 1);
        out.nth = std::strtol(s.c_str() + b + 1, nullptr, 10);
        return out;
    }();
    return r;
}

std::atomic<long> matched{0};

// True when this call is the one to fail.
bool inject(const char* op, const std::string& path) {
    const auto& r = rule();
    if (r.nth < 0 || r.op != op) return false;
    if (!r.text.empty() && r.text.front() == '=') {
        const std::string_view tail = std::string_view(r.text).substr(1);
        if (!std::string_view(path).ends_with(tail)) return false;
    } else if (path.find(r.text) == std::string::npos) {
        return false;
    }
    const long n = ++matched;
    if (r.nth != 0 && n != r.nth) return false;
    std::fprintf(stderr, "fault_inject: %s %s fails with EIO\n", op, path.c_str());
    return true;
}

std::string fd_path(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[4096];
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

template <class F>
F next(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int fsync(int fd) {
    static const auto real = next<int (*)(int)>("fsync");
    if (inject("fsync", fd_path(fd))) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static const auto real = next<int (*)(int)>("fdatasync");
    if (inject("fsync", fd_path(fd))) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int syncfs(int fd) {
    static const auto real = next<int (*)(int)>("syncfs");
    if (inject("syncfs", fd_path(fd))) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int rename(const char* from, const char* to) {
    static const auto real = next<int (*)(const char*, const char*)>("rename");
    if (inject("rename", to)) {
        errno = EIO;
        return -1;
    }
    return real(from, to);
}

int renameat(int fromdir, const char* from, int todir, const char* to) {
    static const auto real = next<int (*)(int, const char*, int, const char*)>("renameat");
    if (inject("rename", to)) {
        errno = EIO;
        return -1;
    }
    return real(fromdir, from, todir, to);
}

int renameat2(int fromdir, const char* from, int todir, const char* to, unsigned flags) {
    static const auto real =
        next<int (*)(int, const char*, int, const char*, unsigned)>("renameat2");
    if (inject("rename", to)) {
        errno = EIO;
        return -1;
    }
    return real(fromdir, from, todir, to, flags);
}

int link(const char* from, const char* to) {
    static const auto real = next<int (*)(const char*, const char*)>("link");
    if (inject("rename", to)) {
        errno = EIO;
        return -1;
    }
    return real(from, to);
}

}  // extern "C"
