// The maildir layout: a standard Maildir (tmp/ new/ cur/) whose status tags other than
// "unread" are Maildir++ folders of the same name (.archive/, .staged/, .dup/, ...), which
// Dovecot and mutt show as ordinary folders. New files get the classic unique name
// "<sec>.M<usec>P<pid>Q<n>R<rand>.<host>,S=<size>,W=<crlf size>", are written in tmp/ and
// renamed into new/. izypop3's own files are dot-files in the Maildir root, which Dovecot
// ignores (it lists only directories there) and mutt never looks at.

#include "dir_layout.hpp"
#include "fs_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

namespace izypop3::store::detail {
namespace {

constexpr std::array<std::string_view, 3> maildir_subdirs{"tmp", "new", "cur"};

std::string folder_of(std::string_view status) {
    return status.empty() ? std::string() : "." + std::string(status);
}

// The base name: everything before the ":2," info (Maildir's separator is ':').
std::string base_of(std::string_view file) {
    return std::string(file.substr(0, file.find(':')));
}

int make_maildir(const std::string& dir) {
    for (auto sub : maildir_subdirs) {
        if (int err = make_dir(join_path(dir, sub))) return err;
    }
    return 0;
}

// A Maildir++ folder: tmp/ new/ cur/ and the empty "maildirfolder" file that marks it as a
// subfolder for Dovecot and Courier.
int ensure_folder(const std::string& root, std::string_view status) {
    // One stat when the folder is complete (every message asks); the mkdirs only when not.
    std::string dir = status.empty() ? root : join_path(root, folder_of(status));
    file_facts facts;
    if (int err = probe(join_path(dir, "cur"), facts)) return err;
    if (facts.is_dir) return 0;
    if (status.empty()) return make_maildir(root);
    if (int err = make_dir(dir)) return err;
    if (int err = make_maildir(dir)) return err;
    unique_fd marker(::open(join_path(dir, "maildirfolder").c_str(),
                            O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!marker) return errno;
    marker.reset();
    if (int err = fsync_dir(dir)) return err;
    return fsync_dir(root);
}

class maildir_layout final : public dir_layout {
  public:
    std::string_view kind() const noexcept override { return "maildir"; }
    std::string_view meta_log_file() const noexcept override { return ".izypop3-meta.log"; }
    std::string_view maildrop_lock_file() const noexcept override { return ".izypop3.lock"; }
    std::string_view write_lock_file() const noexcept override { return ".izypop3-write.lock"; }

    int prepare(const std::string& root, std::string& failed_path) const override {
        return make_dirs_in(root, maildir_subdirs, failed_path);
    }

    int scan(const std::string& root, std::vector<stored_file>& out,
             std::string& failed_path) const override {
        out.clear();
        // The root tells which Maildir++ folders exist: the others are not even looked for
        // (each look is a path walk, and most mailboxes have none).
        std::vector<dir_entry> top;
        if (int err = list_dir(root, top)) {
            failed_path = root;
            return err;
        }
        std::vector<std::string> folders;
        for (auto& e : top)
            if (e.is_dir) folders.push_back(std::move(e.name));
        for (const auto status : mailbox_statuses()) {
            std::string folder = folder_of(status);
            if (!status.empty() && !contains(folders, folder)) continue;
            for (std::string_view sub : {"new", "cur"}) {
                if (int err = scan_message_files(root, join_path(folder, sub), status, base_of, out,
                                                 failed_path))
                    return err;
            }
        }
        return 0;
    }

    int temp_dir(const std::string& root, std::string_view status,
                 std::string& rel_dir) const override {
        if (int err = ensure_folder(root, status)) return err;
        rel_dir = join_path(folder_of(status), "tmp");
        return 0;
    }

    std::string new_name(const new_file_facts& f, unsigned) const override {
        // Unique by construction (time, pid, a per-process counter and a random part);
        // S= and W= let Dovecot skip computing sizes, exactly as its own deliveries do.
        static const std::string host = maildir_host();
        return unique_stem() + "." + host + ",S=" + std::to_string(f.size) +
               ",W=" + std::to_string(f.crlf_size);
    }

    bool name_taken(const std::string&, std::string_view) const override { return false; }

    int deliver_path(const std::string& root, std::string_view name, std::string_view status,
                     std::string& rel_path) const override {
        if (int err = ensure_folder(root, status)) return err;
        rel_path = join_path(join_path(folder_of(status), "new"), name);
        return 0;
    }

    int moved_path(const std::string& root, const stored_file& f, std::string_view status,
                   std::string& rel_path) const override {
        if (int err = ensure_folder(root, status)) return err;
        // Keep new/ or cur/ and the flags: only the folder changes.
        auto slash = f.rel_path.rfind('/');
        std::string file = f.rel_path.substr(slash + 1);
        std::string_view before = std::string_view(f.rel_path).substr(0, slash);
        std::string_view sub =
            before.substr(before.rfind('/') == std::string_view::npos ? 0 : before.rfind('/') + 1);
        rel_path = join_path(join_path(folder_of(status), sub), file);
        return 0;
    }

    std::int64_t arrival_ns(const stored_file& f) const override {
        // "<sec>.M<usec>..." (Dovecot, mutt, izypop3) carries the delivery time.
        std::string_view n = f.name;
        std::int64_t sec = 0;
        auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), sec);
        if (ec != std::errc() || end == n.data() || end == n.data() + n.size() || *end != '.')
            return f.mtime_ns;
        std::int64_t usec = 0;
        std::string_view rest(end + 1, static_cast<std::size_t>(n.data() + n.size() - end - 1));
        if (rest.starts_with("M")) {
            auto [uend, uec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), usec);
            if (uec != std::errc() || usec < 0 || usec > 999999) usec = 0;
            (void)uend;
        }
        return sec * 1000000000 + usec * 1000;
    }
};

}  // namespace

std::unique_ptr<dir_layout> make_maildir_layout() {
    return std::make_unique<maildir_layout>();
}

}  // namespace izypop3::store::detail
