#include "clientpop3/instance_lock.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace izypop3::app {
namespace {

// The store settings that say where the data is; secrets and options that do not change
// the place (accesstoken, create, poolsize, ...) stay out, so they cannot split one store
// into two locks.
constexpr const char* place_keys[] = {"path", "dataservice", "tablename", "mailbox"};

std::string store_identity(const store::store_config& cfg) {
    std::string id = cfg.modhandler == "cloud" ? "postgres" : cfg.modhandler;
    for (const char* k : place_keys) {
        auto v = store::setting_text(cfg, k, "");
        if (std::string_view(k) == "path" && !v.empty()) {
            std::error_code ec;
            auto canon = std::filesystem::weakly_canonical(v, ec);
            if (!ec) v = canon.string();
        }
        id += fmt::format("\n{}={}", k, v);
    }
    return id;
}

std::string sha256_hex(const std::string& text) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
    std::string hex;
    for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

}  // namespace

std::string lock_directory() {
    if (const char* d = std::getenv("IZYPOP3_LOCK_DIR"); d && *d) return d;
    if (const char* d = std::getenv("XDG_RUNTIME_DIR"); d && *d) return std::string(d) + "/izypop3";
    return fmt::format("/tmp/izypop3-locks-{}", ::getuid());
}

std::optional<instance_lock> instance_lock::acquire(const std::string& source_id,
                                                    const store::store_config& store,
                                                    std::string& why) {
    const std::string dir = lock_directory();
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        why = fmt::format("cannot create the lock directory {}: {}; set IZYPOP3_LOCK_DIR to a "
                          "writable directory",
                          dir, std::strerror(errno));
        return std::nullopt;
    }
    const std::string path =
        fmt::format("{}/clientpop3-{}.lock", dir, sha256_hex(source_id + "\n" + store_identity(store)));
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        why = fmt::format("cannot open the lock file {}: {}; set IZYPOP3_LOCK_DIR to a writable "
                          "directory",
                          path, std::strerror(errno));
        return std::nullopt;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        why = e == EWOULDBLOCK
                  ? fmt::format("another clientpop3 is already backing up {} into this store "
                                "(lock {}); wait for it to finish",
                                source_id, path)
                  : fmt::format("cannot lock {}: {}", path, std::strerror(e));
        return std::nullopt;
    }
    return instance_lock(fd, path);
}

instance_lock::instance_lock(instance_lock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
}

instance_lock::~instance_lock() {
    // The file stays: unlinking it would let a third run lock a new inode while the second
    // still holds the old one.
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace izypop3::app
