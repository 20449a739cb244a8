#include <izypop3/store/errc.hpp>
#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/localfs_store.hpp>
#include <izypop3/store/maildir_store.hpp>
#include <izypop3/store/postgres_store.hpp>
#include <izypop3/store/store_factory.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace izypop3::store {
namespace {

// Every store this program knows. A name without a row in `backends` would be reported as
// planned ("not built yet"), never silently replaced by another store.
constexpr std::array<std::string_view, 5> modhandlers{"fake", "localfs", "maildir", "postgres",
                                                      "cloud"};

const std::array<setting_info, 4>& fake_settings() {
    static const std::array<setting_info, 4> table{{
        {"count", "99",
         fmt::format("number of generated messages guid_1..guid_N in each user's maildrop (0 "
                     "to {})",
                     fake_store_options::max_count)},
        {"seed", "1", "generator seed; the same seed always gives the same messages"},
        {"bigsize", "5242880",
         fmt::format("size in octets of the one big message (guid_{}), {} to {}",
                     fake_edge::big, fake_store_options::min_bigsize,
                     fake_store_options::max_bigsize)},
        {"commitmode", "remove",
         "what QUIT does with messages deleted in a POP3 session (serverpop3, test "
         "fullclientserver, test load without ip): remove | archive"},
    }};
    return table;
}

// Settings of every store, checked and applied by the factory itself.
const std::array<setting_info, 1>& shared_settings() {
    static const std::array<setting_info, 1> table{{
        {"verbose", "false",
         "log each store operation (query, read, add, mark, remove, maildrop) with its "
         "duration, at loglevel info"},
    }};
    return table;
}

bool is_shared_setting(std::string_view key) {
    const auto& table = shared_settings();
    return std::any_of(table.begin(), table.end(),
                       [&](const setting_info& s) { return s.name == key; });
}

std::string setting_names(std::span<const setting_info> table) {
    std::string out;
    for (const auto& s : table) {
        if (!out.empty()) out += ", ";
        out += s.name;
    }
    for (const auto& s : shared_settings()) out += (out.empty() ? "" : ", ") + s.name;
    return out;
}

boost::system::result<fake_store_options> fake_options(const store_config& cfg,
                                                       std::string& why) {
    fake_store_options o;
    auto count = setting_uint(cfg, "count", o.count, 0, fake_store_options::max_count, why);
    if (!count) return count.error();
    auto seed = setting_uint(cfg, "seed", o.seed, 0, std::numeric_limits<std::uint64_t>::max(), why);
    if (!seed) return seed.error();
    auto big = setting_uint(cfg, "bigsize", o.bigsize, fake_store_options::min_bigsize,
                            fake_store_options::max_bigsize, why);
    if (!big) return big.error();
    auto mode = setting_text(cfg, "commitmode", "remove");
    if (mode == "remove") {
        o.commitmode = commit_mode::remove;
    } else if (mode == "archive") {
        o.commitmode = commit_mode::archive;
    } else {
        why = fmt::format("mimestore.commitmode must be remove or archive, not '{}'", mode);
        return errc::bad_setting_value;
    }
    o.count = *count;
    o.seed = *seed;
    o.bigsize = *big;
    return o;
}

std::span<const setting_info> fake_setting_table() noexcept { return fake_settings(); }

boost::system::error_code validate_fake_settings(const store_config& cfg, std::string& why) {
    auto opts = fake_options(cfg, why);
    return opts ? boost::system::error_code{} : opts.error();
}

boost::system::result<std::unique_ptr<mime_store>> make_fake_store(const store_config& cfg,
                                                                   std::string& why) {
    auto opts = fake_options(cfg, why);
    if (!opts) return opts.error();
    return std::unique_ptr<mime_store>(std::make_unique<fake_store>(*opts));
}

// One row per built store. A modhandler in `modhandlers` without a row is planned, not built.
struct backend {
    std::string_view name;
    std::span<const setting_info> (*settings)() noexcept;
    boost::system::error_code (*validate)(const store_config&, std::string&);
    boost::system::result<std::unique_ptr<mime_store>> (*make)(const store_config&,
                                                               std::string&);
};

// "cloud" is the original izy-pop3's name for its remote-table store: PostgreSQL here.
constexpr std::array<backend, 5> backends{{
    {"fake", fake_setting_table, validate_fake_settings, make_fake_store},
    {"localfs", localfs_settings, validate_localfs_settings, make_localfs_store},
    {"maildir", maildir_settings, validate_maildir_settings, make_maildir_store},
    {"postgres", postgres_settings, validate_postgres_settings, make_postgres_store},
    {"cloud", postgres_settings, validate_postgres_settings, make_postgres_store},
}};

const backend* find_backend(std::string_view modhandler) noexcept {
    auto it = std::find_if(backends.begin(), backends.end(),
                           [&](const backend& b) { return b.name == modhandler; });
    return it == backends.end() ? nullptr : &*it;
}

std::string built_names() {
    std::string out;
    for (const auto& b : backends) {
        if (!out.empty()) out += ", ";
        out += b.name;
    }
    return out;
}

// The backend's own part of `cfg`: a backend knows nothing of the shared settings.
store_config without_shared(store_config cfg) {
    for (const auto& s : shared_settings()) cfg.settings.erase(s.name);
    return cfg;
}

}  // namespace

std::vector<std::string> known_modhandlers() {
    return {modhandlers.begin(), modhandlers.end()};
}

bool is_built(std::string_view modhandler) noexcept { return find_backend(modhandler) != nullptr; }

std::span<const setting_info> settings_of(std::string_view modhandler) noexcept {
    const backend* b = find_backend(modhandler);
    return b ? b->settings() : std::span<const setting_info>{};
}

std::span<const setting_info> common_settings() noexcept { return shared_settings(); }

boost::system::error_code validate(const store_config& cfg, std::string& error_text) {
    const auto& name = cfg.modhandler;
    if (std::find(modhandlers.begin(), modhandlers.end(), name) == modhandlers.end()) {
        error_text = fmt::format("unknown mimestore.modhandler '{}' (known: {})", name,
                                 fmt::join(modhandlers, ", "));
        return errc::unknown_modhandler;
    }
    const backend* b = find_backend(name);
    if (!b) {
        error_text = fmt::format("mimestore.modhandler {} is not built yet (available: {})",
                                 name, built_names());
        return errc::not_built;
    }
    auto table = b->settings();
    for (const auto& setting : cfg.settings) {
        // Not a structured binding: clang 14 cannot capture those in a lambda.
        const std::string& key = setting.first;
        bool known = is_shared_setting(key) ||
                     std::any_of(table.begin(), table.end(),
                                 [&](const setting_info& s) { return s.name == key; });
        if (!known) {
            error_text = fmt::format(
                "unknown setting mimestore.{} for mimestore.modhandler {} (valid: {})", key,
                name, setting_names(table));
            return errc::unknown_setting;
        }
    }
    if (auto verbose = setting_bool(cfg, "verbose", false, error_text); !verbose)
        return verbose.error();
    return b->validate(without_shared(cfg), error_text);
}

boost::system::result<std::unique_ptr<mime_store>> make_store(const store_config& cfg,
                                                              std::string& error_text,
                                                              store_log log) {
    if (auto ec = validate(cfg, error_text)) return ec;
    const bool verbose = setting_bool(cfg, "verbose", false, error_text).value();
    if (verbose && !log)
        throw std::invalid_argument("make_store: mimestore.verbose is on but no log was given");
    auto made = find_backend(cfg.modhandler)->make(without_shared(cfg), error_text);
    if (!made || !verbose) return made;
    return make_logged_store(std::move(*made), std::move(log));
}

}  // namespace izypop3::store
