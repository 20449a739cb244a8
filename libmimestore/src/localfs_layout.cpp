// The localfs layout: a directory of .eml files, each exactly the message octets, named
// "<sourceid>_<guid>.eml" made safe for any file system, with one folder per status tag
// (archive/, staged/, dup/, ...) made when first needed. izypop3 keeps its own files in
// ".izypop3/" (temporary files, the metadata log, the locks), which no query looks at.

#include "dir_layout.hpp"
#include "fs_ops.hpp"
#include "sha256.hpp"

#include <izypop3/store/item.hpp>

#include <sys/stat.h>

#include <array>
#include <cerrno>

namespace izypop3::store::detail {
namespace {

constexpr std::string_view state_dir = ".izypop3";
constexpr std::string_view tmp_dir = ".izypop3/tmp";
constexpr std::string_view extension = ".eml";
// NAME_MAX is 255 on every file system that matters; leave room for "~NNN", ".eml" and a
// percent-encoded multi-octet character that must not be split.
constexpr std::size_t max_stem = 180;

// Upper-case letters are not safe: on a file system that folds case (macOS, Windows shares,
// vfat) "ABC" and "abc" would be one file. Escaped, they cannot meet: every '%' starts an
// escape and escapes are always written with upper-case hex, so two different values never
// give names that differ only in case (issue 12, item 4).
bool safe_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '@' || c == '+' || c == '=';
}

// Percent-encodes every octet that some file system, shell or tool would trip over
// ('/', control characters, spaces, '%', upper case, non-ASCII ...). The result never
// contains '/', so a UID cannot name another directory.
std::string safe_part(std::string_view v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : v) {
        if (safe_char(ch) && ch != '_') {
            out.push_back(ch);
        } else {
            auto c = static_cast<unsigned char>(ch);
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

bool ends_with_eml(std::string_view name) {
    if (name.size() <= extension.size()) return false;
    auto tail = name.substr(name.size() - extension.size());
    for (std::size_t i = 0; i < tail.size(); ++i) {
        char c = tail[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != extension[i]) return false;
    }
    return true;
}

std::string folder_of(std::string_view status) {
    return std::string(status);
}

// "x.eml" names item "x"; other files are not messages.
std::string item_name(std::string_view file_name) {
    if (!ends_with_eml(file_name)) return {};
    return std::string(file_name.substr(0, file_name.size() - extension.size()));
}

int ensure_folder(const std::string& root, std::string_view status) {
    if (status.empty()) return 0;
    std::string dir = join_path(root, folder_of(status));
    if (::mkdir(dir.c_str(), 0700) == 0) return fsync_dir(root);
    return errno == EEXIST ? 0 : errno;
}

class localfs_layout final : public dir_layout {
  public:
    std::string_view kind() const noexcept override { return "localfs"; }
    std::string_view meta_log_file() const noexcept override { return ".izypop3/meta.log"; }
    std::string_view maildrop_lock_file() const noexcept override {
        return ".izypop3/maildrop.lock";
    }
    std::string_view write_lock_file() const noexcept override { return ".izypop3/write.lock"; }

    int prepare(const std::string& root, std::string& failed_path) const override {
        constexpr std::array<std::string_view, 2> dirs{state_dir, tmp_dir};
        return make_dirs_in(root, dirs, failed_path);
    }

    int scan(const std::string& root, std::vector<stored_file>& out,
             std::string& failed_path) const override {
        out.clear();
        // The root holds the unread items and tells which status folders exist: the others
        // are not even looked for.
        std::vector<std::string> folders;
        if (int err = scan_message_files(root, "", "", item_name, out, failed_path, &folders))
            return err;
        for (const auto status : folder_statuses()) {
            if (!contains(folders, folder_of(status))) continue;
            if (int err = scan_message_files(root, folder_of(status), status, item_name, out,
                                             failed_path))
                return err;
        }
        return 0;
    }

    int temp_dir(const std::string&, std::string_view, std::string& rel_dir) const override {
        rel_dir = std::string(tmp_dir);
        return 0;
    }

    std::string new_name(const new_file_facts& f, unsigned attempt) const override {
        std::string stem = f.source_id.empty() ? safe_part(f.guid)
                                               : safe_part(f.source_id) + "_" + safe_part(f.guid);
        if (stem.size() > max_stem) {
            // Long names keep a readable start and a hash of the whole, so that two guids
            // sharing the start still get different names.
            std::string whole = f.source_id;
            whole.append(1, '\n').append(f.guid);
            std::size_t keep = max_stem - 17;
            // Never cut a %XX escape in two ('%' only ever starts one).
            if (stem[keep - 1] == '%')
                keep -= 1;
            else if (stem[keep - 2] == '%')
                keep -= 2;
            stem.resize(keep);
            stem.append(1, '-').append(sha256_hex(whole).substr(0, 16));
        }
        if (stem.front() == '.') stem.replace(0, 1, "%2E");
        if (attempt > 1) stem.append(1, '~').append(std::to_string(attempt));
        return stem;
    }

    bool name_taken(const std::string& root, std::string_view name) const override {
        std::string file = std::string(name) + std::string(extension);
        file_facts facts;
        if (probe(join_path(root, file), facts) != 0 || facts.exists) return true;
        for (auto s : folder_statuses()) {
            if (probe(join_path(join_path(root, folder_of(s)), file), facts) != 0 || facts.exists)
                return true;
        }
        return false;
    }

    int deliver_path(const std::string& root, std::string_view name, std::string_view status,
                     std::string& rel_path) const override {
        if (int err = ensure_folder(root, status)) return err;
        rel_path = join_path(folder_of(status), std::string(name) + std::string(extension));
        return 0;
    }

    int moved_path(const std::string& root, const stored_file& f, std::string_view status,
                   std::string& rel_path) const override {
        if (int err = ensure_folder(root, status)) return err;
        auto slash = f.rel_path.rfind('/');
        std::string file = slash == std::string::npos ? f.rel_path : f.rel_path.substr(slash + 1);
        rel_path = join_path(folder_of(status), file);
        return 0;
    }

    std::int64_t arrival_ns(const stored_file& f) const override { return f.mtime_ns; }
};

}  // namespace

std::unique_ptr<dir_layout> make_localfs_layout() {
    return std::make_unique<localfs_layout>();
}

}  // namespace izypop3::store::detail
