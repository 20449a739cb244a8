#pragma once
// One backup at a time per account and store (C19): two clientpop3 runs copying the same
// account into the same store would race on what `query new` sees and on DELE. The lock is
// an flock(2) on a file under the runtime directory, named by a SHA-256 of the account and
// the store's identity, so it is released by the kernel however the process ends
// (SIGKILL included) and never goes stale.

#include <izypop3/store/store_config.hpp>

#include <optional>
#include <string>

namespace izypop3::app {

class instance_lock {
public:
    /// Takes the lock for `source_id` ("user@host") backing up into `store`. On failure
    /// (held by another run, or the lock directory unusable) returns nullopt and puts a
    /// one-line explanation into `why`.
    static std::optional<instance_lock> acquire(const std::string& source_id,
                                                const store::store_config& store,
                                                std::string& why);
    instance_lock(instance_lock&& other) noexcept;
    instance_lock& operator=(instance_lock&&) = delete;
    instance_lock(const instance_lock&) = delete;
    ~instance_lock();

    const std::string& path() const noexcept { return path_; }

private:
    instance_lock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::string path_;
};

/// Where lock files live: $IZYPOP3_LOCK_DIR, else $XDG_RUNTIME_DIR/izypop3, else
/// /tmp/izypop3-locks-<uid>.
std::string lock_directory();

}  // namespace izypop3::app
