#include "serverpop3/user_directory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace izypop3::app {
namespace {

file_stamp stamp_of(const struct stat& st) {
    file_stamp s;
    s.device = static_cast<std::uint64_t>(st.st_dev);
    s.inode = static_cast<std::uint64_t>(st.st_ino);
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    s.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    return s;
}

std::string errno_text(int e) {
    return std::strerror(e);
}

// One version of the file, read whole.
struct file_version {
    enum class status { ok, changing, failed } result = status::failed;
    std::string text;
    file_stamp stamp;
    std::string error;
};

// Why the file opened as `fd` is not read at all, or nothing.
std::optional<std::string> refuse_file(const std::string& path, const struct stat& st,
                                       std::uint64_t max_size) {
    if (!S_ISREG(st.st_mode))
        return "users file " + path + " is not a regular file; give the path of a passwd-file";
    if (static_cast<std::uint64_t>(st.st_size) > max_size) {
        return "users file " + path + " has " + std::to_string(st.st_size) +
               " octets, more than the " + std::to_string(max_size) +
               " a users file may have; check the path";
    }
    return std::nullopt;
}

// Appends what `fd` holds to `text`, stopping once past `max_size`; false on a read error.
bool read_all(int fd, std::uint64_t max_size, std::string& text) {
    std::vector<char> buf(64 * 1024);
    while (true) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        text.append(buf.data(), static_cast<std::size_t>(n));
        if (text.size() > max_size) return true;  // grew while being read; the stamps differ
    }
}

file_version read_version(const std::string& path, std::uint64_t max_size) {
    file_version v;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        v.error = "cannot read users file " + path + ": " + errno_text(errno) +
                  "; give the path of a passwd-file (user:{SCHEME}password per line)";
        return v;
    }
    struct stat before {};
    struct stat after {};
    bool ok = ::fstat(fd, &before) == 0;
    if (auto refused = ok ? refuse_file(path, before, max_size) : std::nullopt) {
        v.error = std::move(*refused);
        ::close(fd);
        return v;
    }
    ok = ok && read_all(fd, max_size, v.text);
    const int read_errno = errno;
    ok = ok && ::fstat(fd, &after) == 0;
    ::close(fd);
    if (!ok) {
        v.error = "cannot read users file " + path + ": " + errno_text(read_errno) +
                  "; check its permissions";
        return v;
    }
    v.stamp = stamp_of(before);
    // A writer was busy: read again at the next check rather than use half a file.
    v.result = stamp_of(after) == v.stamp && v.text.size() == v.stamp.size
                   ? file_version::status::ok
                   : file_version::status::changing;
    return v;
}

// read_version(), tried up to three times while a writer is busy when `retry`.
file_version read_settled_version(const std::string& path, std::uint64_t max_size, bool retry) {
    file_version v;
    for (int attempt = 0; attempt < 3; ++attempt) {
        v = read_version(path, max_size);
        if (v.result != file_version::status::changing || !retry) break;
    }
    return v;
}

std::string describe_forms(const core::sasl::secret_forms& f) {
    std::string s;
    auto add = [&s](bool on, std::string_view what) {
        if (!on) return;
        if (!s.empty()) s += ", ";
        s += what;
    };
    add(f.plaintext, "{PLAIN} entries (APOP, CRAM-MD5)");
    add(f.scram_sha1, "SCRAM-SHA-1");
    add(f.scram_sha256, "SCRAM-SHA-256");
    return s;
}

}  // namespace

user_directory::user_directory(std::string path, transport::logger log, options opt)
    : path_(std::move(path)), log_(std::move(log)), opt_(opt) {}

std::shared_ptr<user_directory> user_directory::open(std::string path, transport::logger log,
                                                     std::string& error, options opt) {
    std::shared_ptr<user_directory> d(new user_directory(std::move(path), std::move(log), opt));
    if (!d->load(trigger::start, &error)) return nullptr;
    d->advertised_ = d->table()->forms();
    if (d->table()->empty())
        d->log_.warn("users file {} has no users; every login fails until users are added",
                     d->path_);
    d->next_check_ns_ = std::chrono::steady_clock::now().time_since_epoch().count() +
                        std::chrono::nanoseconds(opt.recheck_interval).count();
    return d;
}

void user_directory::report(trigger t, const std::string& text) {
    // A bad file is reported once per version, not on every check; a SIGHUP always answers.
    if (t == trigger::change && text == last_error_) return;
    last_error_ = text;
    log_.error("{}; still using the {} users read before", text, table()->size());
}

bool user_directory::load(trigger t, std::string* error) {
    std::unique_lock lock(reload_mutex_, std::defer_lock);
    if (t == trigger::change) {
        // Another thread is reading the file already: no need to wait for it.
        if (!lock.try_lock() || !stamp_changed()) return false;
    } else {
        lock.lock();
    }
    file_version v = read_settled_version(path_, opt_.max_file_size, t != trigger::change);
    if (v.result == file_version::status::changing) {
        if (t == trigger::start)
            *error = "users file " + path_ + " kept changing while it was read; try again";
        else
            log_.info("users file {} is being written; reading it again shortly", path_);
        return false;
    }
    if (v.result == file_version::status::failed) return fail_load(t, v.error, error);
    seen_ = v.stamp;
    auto parsed = core::sasl::passwd_table::parse(v.text, path_);
    // The text may hold {PLAIN} passwords: do not leave it in freed memory.
    std::fill(v.text.begin(), v.text.end(), '\0');
    if (!parsed) return fail_load(t, parsed.error().text(), error);
    install(std::move(*parsed), t);
    return true;
}

bool user_directory::stamp_changed() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        report(trigger::change, "cannot read users file " + path_ + ": " + errno_text(errno) +
                                    "; put it back or send SIGHUP after fixing the path");
        return false;
    }
    return !seen_ || !(stamp_of(st) == *seen_);
}

bool user_directory::fail_load(trigger t, const std::string& text, std::string* error) {
    if (t == trigger::start)
        *error = text;
    else
        report(t, text);
    return false;
}

void user_directory::install(core::sasl::passwd_table parsed, trigger t) {
    auto fresh = std::make_shared<const core::sasl::passwd_table>(std::move(parsed));
    const auto forms = fresh->forms();
    const std::size_t users = fresh->size();
    table_.store(std::move(fresh));
    last_error_.clear();
    if (t == trigger::start) return;
    log_.info("users file {} re-read: {} users", path_, users);
    const core::sasl::secret_forms missing{forms.plaintext && !advertised_.plaintext,
                                           forms.scram_sha1 && !advertised_.scram_sha1,
                                           forms.scram_sha256 && !advertised_.scram_sha256};
    if (missing.plaintext || missing.scram_sha1 || missing.scram_sha256)
        log_.warn(
            "users file {} now has {}, which the server does not offer until it is "
            "restarted; those users can log in with USER/PASS, PLAIN or LOGIN meanwhile",
            path_, describe_forms(missing));
}

void user_directory::maybe_recheck() {
    const std::int64_t interval = std::chrono::nanoseconds(opt_.recheck_interval).count();
    if (interval > 0) {
        const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
        std::int64_t due = next_check_ns_.load(std::memory_order_relaxed);
        if (now < due) return;
        // One thread per interval does the stat; the others go on with the current table.
        if (!next_check_ns_.compare_exchange_strong(due, now + interval)) return;
    }
    load(trigger::change, nullptr);
}

bool user_directory::reload() {
    return load(trigger::signal, nullptr);
}

bool user_directory::reload_if_changed() {
    return load(trigger::change, nullptr);
}

core::auth_outcome user_directory::verify_password(std::string_view user,
                                                   std::string_view password) {
    maybe_recheck();
    return table()->verify_password(user, password) ? core::auth_outcome::accepted
                                                    : core::auth_outcome::rejected;
}

std::optional<core::sasl::stored_secret> user_directory::lookup_secret(std::string_view user) {
    maybe_recheck();
    return table()->lookup_secret(user);
}

void install_user_directory(const std::shared_ptr<user_directory>& users,
                            transport::server_hooks& hooks) {
    hooks.verify_password = [users](std::string_view user, std::string_view password) {
        return users->verify_password(user, password);
    };
    hooks.lookup_secret = [users](std::string_view user) { return users->lookup_secret(user); };
    hooks.secret_forms = users->advertised_forms();
    hooks.on_reload = [users] { users->reload(); };
}

}  // namespace izypop3::app
