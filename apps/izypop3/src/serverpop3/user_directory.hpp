#pragma once
// The users file of `serverpop3 users FILE`: a Dovecot passwd-file (core::sasl::passwd_table)
// kept current while the server runs. Lookups come from the server's worker threads; the
// table in use is swapped atomically, so a lookup never waits for a reload. The file is
// re-read when its stat stamp changes (checked at most once per recheck_interval, on a
// lookup) and on SIGHUP (server_hooks::on_reload). A reload that fails keeps the previous
// table and logs the error with file and line.

#include <izypop3/core/sasl/passwd_file.hpp>
#include <izypop3/core/server_session.hpp>
#include <izypop3/transport/logger.hpp>
#include <izypop3/transport/server.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::app {

/// What stat(2) says about a file version; two reads of the same version have equal stamps.
/// ctime is in it because no user can set it: a copy that keeps mtime and size still
/// changes it.
struct file_stamp {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const file_stamp&) const = default;
};

class user_directory {
  public:
    struct options {
        /// How often a lookup may stat the file for a change; 0 = on every lookup.
        std::chrono::milliseconds recheck_interval{1000};
        /// A bigger file is refused: a users file is small, and this bounds a wrong path.
        std::uint64_t max_file_size = 64 * 1024 * 1024;
    };

    /// Reads and parses `path`. On failure returns nullptr and sets `error` to one line
    /// naming the file (and the line, for a malformed one) and what to do.
    static std::shared_ptr<user_directory> open(std::string path, transport::logger log,
                                                std::string& error, options opt);
    static std::shared_ptr<user_directory> open(std::string path, transport::logger log,
                                                std::string& error) {
        return open(std::move(path), std::move(log), error, options{});
    }

    user_directory(const user_directory&) = delete;
    user_directory& operator=(const user_directory&) = delete;

    /// server_hooks::verify_password. Unknown users cost what wrong passwords cost.
    core::auth_outcome verify_password(std::string_view user, std::string_view password);
    /// server_hooks::lookup_secret: nullopt for an unknown user or a crypt-only entry.
    std::optional<core::sasl::stored_secret> lookup_secret(std::string_view user);

    /// SIGHUP: re-reads the file even if its stamp did not change. True when a new table
    /// is in use afterwards; on failure the old table stays and the error is logged.
    bool reload();
    /// Re-reads the file if its stamp changed since the last read. True when a new table
    /// is in use afterwards.
    bool reload_if_changed();

    /// The table in use now.
    std::shared_ptr<const core::sasl::passwd_table> table() const { return table_.load(); }
    const std::string& path() const noexcept { return path_; }
    /// What the server advertises: the forms of the table read at start-up (server_hooks
    /// takes them once; a reload that adds a form logs that a restart is needed).
    core::sasl::secret_forms advertised_forms() const noexcept { return advertised_; }

  private:
    enum class trigger { start, signal, change };

    user_directory(std::string path, transport::logger log, options opt);
    // Reads the file if `t` asks for it (or its stamp changed); returns true when a new table
    // was installed. `error` gets the start-up error text.
    bool load(trigger t, std::string* error);
    // trigger::change: false when the stamp is the one last read, or the file is gone
    // (reported).
    bool stamp_changed();
    // Hands `text` to the caller at start-up, else logs it; returns false for load().
    bool fail_load(trigger t, const std::string& text, std::string* error);
    // Puts `parsed` in use; after start-up logs it, and warns of forms not advertised.
    void install(core::sasl::passwd_table parsed, trigger t);
    void maybe_recheck();
    void report(trigger t, const std::string& text);

    std::string path_;
    transport::logger log_;
    options opt_;
    std::atomic<std::shared_ptr<const core::sasl::passwd_table>> table_;
    core::sasl::secret_forms advertised_{};
    std::atomic<std::int64_t> next_check_ns_{0};
    std::mutex reload_mutex_;         // one reader of the file at a time
    std::optional<file_stamp> seen_;  // the version last read (or found bad)
    std::string last_error_;          // logged once until it changes
};

/// Wires `users` into the hooks: verify_password, lookup_secret, secret_forms (the file's
/// forms at start-up) and on_reload (SIGHUP).
void install_user_directory(const std::shared_ptr<user_directory>& users,
                            transport::server_hooks& hooks);

}  // namespace izypop3::app
