// What both directory layouts do alike: the folders a mailbox has, and reading one
// directory of message files.

#include "dir_layout.hpp"
#include "fs_ops.hpp"

#include <izypop3/store/item.hpp>

namespace izypop3::store::detail {

std::vector<std::string_view> folder_statuses() {
    std::vector<std::string_view> out;
    for (auto s : status_tags())
        if (s != tag::unread) out.push_back(s);
    return out;
}

std::vector<std::string_view> mailbox_statuses() {
    std::vector<std::string_view> out{""};
    for (auto s : folder_statuses()) out.push_back(s);
    return out;
}

int scan_message_files(const std::string& root, const std::string& rel_dir, std::string_view status,
                       item_name_of name_of, std::vector<stored_file>& out,
                       std::string& failed_path, std::vector<std::string>* subdirs) {
    const std::string dir = join_path(root, rel_dir);
    std::vector<dir_entry> entries;
    // Each file is looked at relative to the open directory (one lstat, no second walk of
    // its whole path): a login scans every message file of the maildrop.
    if (int err = list_dir(dir, entries, nullptr, true)) {
        failed_path = dir;
        return err;
    }
    for (auto& e : entries) {
        if (e.is_dir && subdirs != nullptr) subdirs->push_back(std::move(e.name));
        // Dot-files are never messages (Maildir readers skip them too).
        if (!e.is_regular || e.name.front() == '.') continue;
        stored_file f;
        f.name = name_of(e.name);
        if (f.name.empty()) continue;
        f.rel_path = join_path(rel_dir, e.name);
        f.status = std::string(status);
        f.size = e.facts.size;
        f.mtime_ns = e.facts.mtime_ns;
        f.ino = e.facts.ino;
        out.push_back(std::move(f));
    }
    return 0;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    for (const auto& n : names)
        if (n == name) return true;
    return false;
}

}  // namespace izypop3::store::detail
