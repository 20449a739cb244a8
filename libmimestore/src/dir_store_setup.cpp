#include "dir_store_setup.hpp"

#include "fs_ops.hpp"

#include <izypop3/store/errc.hpp>

#include <fmt/format.h>

#include <array>
#include <unistd.h>

namespace izypop3::store::detail {

namespace {

// One table per store, even though the keys are the same: the command line treats stores
// that share a table as one store under two names (postgres / cloud).
std::array<setting_info, 3> make_dir_settings(std::string_view archive_folder) {
    return {{
        {"path", "",
         "the store directory; %u (the user name) gives each user a mailbox, e.g. "
         "/srv/mail/%u"},
        {"create", "false", "make a missing mimestore.path (mode 0700) instead of failing"},
        {"commitmode", "archive",
         fmt::format("what QUIT does with messages deleted in a POP3 session (serverpop3, test "
                     "fullclientserver, test load without ip): archive (keep them in {}) | remove",
                     archive_folder)},
    }};
}

}  // namespace

std::span<const setting_info> localfs_setting_table() noexcept {
    static const auto table = make_dir_settings("archive/");
    return table;
}

std::span<const setting_info> maildir_setting_table() noexcept {
    static const auto table = make_dir_settings("the .archive folder");
    return table;
}

boost::system::result<dir_store_options> dir_options(const store_config& cfg, std::string& why) {
    dir_store_options o;
    o.path = setting_text(cfg, "path", "");
    if (o.path.empty()) {
        why = fmt::format("mimestore.modhandler {} needs mimestore.path: the directory of the "
                          "store, e.g. mimestore.path /srv/mail/%u",
                          cfg.modhandler);
        return errc::bad_config;
    }
    auto tpl = path_template::parse(o.path, why);
    if (!tpl) return tpl.error();
    auto create = setting_bool(cfg, "create", false, why);
    if (!create) return create.error();
    o.create = *create;
    auto mode = setting_text(cfg, "commitmode", "archive");
    if (mode == "archive") {
        o.commitmode = commit_mode::archive;
    } else if (mode == "remove") {
        o.commitmode = commit_mode::remove;
    } else {
        why = fmt::format("mimestore.commitmode must be archive or remove, not '{}'", mode);
        return errc::bad_setting_value;
    }
    return o;
}

namespace {

bool looks_like_maildir_or_empty(const std::string& dir) {
    std::vector<dir_entry> entries;
    if (list_dir(dir, entries) != 0) return true;  // reported later, when it is used
    if (entries.empty()) return true;
    for (const auto& e : entries)
        if (e.is_dir && (e.name == "cur" || e.name == "new" || e.name == "tmp")) return true;
    return false;
}

}  // namespace

boost::system::result<std::unique_ptr<dir_store_engine>> open_dir_engine(
    std::unique_ptr<dir_layout> layout, const dir_store_options& opts, bool require_maildir,
    std::string& error_text) {
    auto tpl = path_template::parse(opts.path, error_text);
    if (!tpl) return tpl.error();
    const std::string& dir = tpl->base();
    const char* what = tpl->per_user() ? "the directory of the mailboxes" : "the store directory";
    file_facts facts;
    if (int err = probe_follow(dir, facts)) {
        error_text = errno_text(fmt::format("cannot look at {} {} (mimestore.path {})", what,
                                            dir, opts.path),
                                err);
        return errno_to_errc(err) == errc::read_only ? errc::read_only : errc::io_error;
    }
    if (!facts.exists) {
        if (!opts.create) {
            error_text = fmt::format("{} {} does not exist (mimestore.path {}); create it or "
                                     "add mimestore.create true",
                                     what, dir, opts.path);
            return errc::bad_config;
        }
        if (int err = make_dirs(dir)) {
            error_text = errno_text(fmt::format("cannot create {} {}", what, dir), err);
            return errno_to_errc(err) == errc::not_found ? errc::io_error : errno_to_errc(err);
        }
    } else if (!facts.is_dir) {
        error_text = fmt::format("{} {} is not a directory (mimestore.path {}); give a directory",
                                 what, dir, opts.path);
        return errc::bad_config;
    }
    if (::access(dir.c_str(), R_OK | X_OK) != 0) {
        error_text = errno_text(fmt::format("no permission to read {} {}; run as its owner or "
                                            "change its permissions",
                                            what, dir),
                                errno);
        return errc::read_only;
    }
    if (require_maildir && !tpl->per_user() && !looks_like_maildir_or_empty(dir)) {
        error_text = fmt::format("{} is neither empty nor a Maildir (no cur/, new/ or tmp/); give "
                                 "the Maildir itself or an empty directory",
                                 dir);
        return errc::bad_config;
    }
    return std::make_unique<dir_store_engine>(std::move(layout), std::move(*tpl), opts);
}

}  // namespace izypop3::store::detail
