#include "selftest/backup_checks.hpp"

#include "cli/cli.hpp"

#include <izypop3/store/store_factory.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

namespace izypop3::app {
namespace {

namespace fs = std::filesystem;

// A temporary directory for one backup store, removed with everything in it.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern = (fs::temp_directory_path() / "izypop3-selftest-XXXXXX").string();
        if (::mkdtemp(pattern.data())) path_ = pattern;
    }
    ~scratch_dir() {
        std::error_code ec;
        if (!path_.empty()) fs::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

// How one backup run reaches the server.
struct route {
    std::string_view name;
    std::string_view mechanism;  ///< the client's `auth` value
    enum class wire { plain, stls, tls } how;
};

constexpr std::array<route, 9> routes{{
    {"backup-plain", "user", route::wire::plain},
    {"backup-stls", "auto", route::wire::stls},
    {"backup-tls", "auto", route::wire::tls},
    {"backup-apop", "apop", route::wire::plain},
    {"backup-plain-sasl", "plain", route::wire::plain},
    {"backup-login", "login", route::wire::plain},
    {"backup-cram-md5", "cram-md5", route::wire::plain},
    {"backup-scram-sha-1", "scram-sha-1", route::wire::stls},
    {"backup-scram-sha-256", "scram-sha-256", route::wire::tls},
}};

constexpr std::string_view backup_user = "backupuser";

std::vector<std::string> client_args(const backup_target& t, const route& r,
                                     const std::string& dir) {
    const bool tls = r.how == route::wire::tls;
    std::vector<std::string> a{"method", "clientpop3", "ip", "127.0.0.1", "port",
                               std::to_string(tls ? t.tls_port : t.port), "user",
                               std::string(backup_user), "pass", std::string(backup_user),
                               "auth", std::string(r.mechanism), "cmd", "retr",
                               "mimestore.modhandler", "localfs", "mimestore.path", dir};
    if (tls) {
        a.insert(a.end(), {"tls", "true"});
    } else {
        a.insert(a.end(), {"starttls", r.how == route::wire::stls ? "true" : "false"});
    }
    if (r.how != route::wire::plain) a.insert(a.end(), {"tls.fingerprint", t.fingerprint});
    a.insert(a.end(), t.log_keys.begin(), t.log_keys.end());
    return a;
}

// Runs `izypop3 <args>` in this process; a verdict when it does not exit 0.
verdict run_client(const backup_target& t, std::vector<std::string> args) {
    std::ostringstream out, err;
    const int code = run_cli(args, out, err);
    if (t.client_log) *t.client_log << err.str();
    if (code == 0) return std::nullopt;
    std::string text = err.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (auto nl = text.rfind('\n'); nl != std::string::npos) text.erase(0, nl + 1);
    return fmt::format("clientpop3 exited with {}: {}", code, text);
}

// Every message of the reference is in the store at `dir` under its UIDL, octet for octet,
// and nothing else is.
verdict same_as_reference(const backup_target& t, const std::string& dir) {
    store::store_config cfg;
    cfg.modhandler = "localfs";
    cfg.settings["path"] = dir;
    std::string why;
    auto made = store::make_store(cfg, why);
    if (!made) return "opening the backup store: " + why;
    store::query_options q;
    q.limit = store::query_options::unlimited;
    auto found = (*made)->query(q);
    if (!found) return "querying the backup store: " + found.error().message();
    const auto& want = t.ref->messages();
    if (found->count != want.size())
        return fmt::format("the backup store holds {} items, the maildrop {} messages",
                           found->count, want.size());
    std::map<std::string, const store::item*, std::less<>> by_guid;
    for (const auto& it : found->items) by_guid.emplace(it.guid, &it);
    for (std::size_t i = 0; i < want.size(); ++i) {
        auto hit = by_guid.find(want[i].uid);
        if (hit == by_guid.end())
            return fmt::format("message {} (UIDL {}) is not in the backup store", i + 1,
                               want[i].uid);
        auto octets = store::read_all(**made, *hit->second);
        if (!octets) return fmt::format("reading message {} back: {}", i + 1, octets.error().message());
        if (auto v = compare_octets(t.ref->wire_octets(i), *octets))
            return fmt::format("message {} (UIDL {}): {}", i + 1, want[i].uid, *v);
    }
    return std::nullopt;
}

verdict backup_into(const backup_target& t, const route& r, const std::string& dir) {
    if (dir.empty()) return "cannot make a temporary directory; check TMPDIR";
    if (auto v = run_client(t, client_args(t, r, dir))) return v;
    return same_as_reference(t, dir);
}

verdict incremental_fetches_nothing(const backup_target& t, const std::string& dir) {
    auto args = client_args(t, routes[0], dir);
    args.insert(args.end(), {"query", "new"});
    if (auto v = run_client(t, std::move(args))) return v;
    return same_as_reference(t, dir);  // still exactly one copy of each message
}

verdict delete_empties_the_maildrop(const backup_target& t, const std::string& dir) {
    auto args = client_args(t, routes[0], dir);
    args.insert(args.end(), {"delete", "true"});
    if (auto v = run_client(t, std::move(args))) return v;
    if (auto v = same_as_reference(t, dir)) return "after delete: " + *v;
    return t.maildrop_empty();
}

}  // namespace

void run_backup_checks(const backup_target& t, check_list& checks) {
    scratch_dir kept;  // the store the incremental and delete checks continue
    for (const auto& r : routes) {
        if (r.name == routes[0].name) {
            checks.record(r.name, backup_into(t, r, kept.path()));
            continue;
        }
        scratch_dir dir;
        checks.record(r.name, backup_into(t, r, dir.path()));
    }
    checks.record("backup-query-new", incremental_fetches_nothing(t, kept.path()));
    if (t.may_delete) {
        checks.record("backup-delete", delete_empties_the_maildrop(t, kept.path()));
    }
}

}  // namespace izypop3::app
