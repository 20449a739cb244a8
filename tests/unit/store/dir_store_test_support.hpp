#pragma once
// Helpers for the directory store tests (localfs, maildir): scratch directories removed at
// the end of the test program, file helpers, and opening stores by options.

#include <izypop3/store/errc.hpp>
#include <izypop3/store/localfs_store.hpp>
#include <izypop3/store/maildir_store.hpp>
#include <izypop3/store/store.hpp>

#include <gtest/gtest.h>

#include "store_conformance.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>

namespace izypop3::test {

/// A directory under /tmp unique to this process, removed (with everything in it) at exit.
inline const std::filesystem::path& scratch_root() {
    struct holder {
        std::filesystem::path path;
        holder() {
            path = std::filesystem::temp_directory_path() /
                   ("izypop3-dirstore-" + std::to_string(::getpid()));
            std::filesystem::create_directories(path);
        }
        ~holder() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static holder h;
    return h.path;
}

/// A new, empty, uniquely named directory (created).
inline std::string fresh_dir(const std::string& hint = "d") {
    static int n = 0;
    auto p = scratch_root() / (hint + std::to_string(++n));
    std::filesystem::create_directories(p);
    return p.string();
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void spit(const std::string& path, std::string_view data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Every regular file below `dir`, relative, sorted.
inline std::vector<std::string> files_below(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            out.push_back(std::filesystem::relative(e.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

template <class Store>
std::unique_ptr<Store> open_dir_store(const std::string& path,
                                      store::commit_mode mode = store::commit_mode::archive,
                                      bool create = false) {
    store::dir_store_options o;
    o.path = path;
    o.create = create;
    o.commitmode = mode;
    std::string why;
    auto s = Store::open(o, why);
    EXPECT_TRUE(s.has_value()) << why;
    return s ? std::move(*s) : nullptr;
}

/// A conformance backend on a fresh directory: one mailbox per user (DIR/%u) or one
/// directory for everyone.
template <class Store>
store_backend dir_backend(const std::string& kind, bool per_user) {
    store_backend b;
    b.name = kind + (per_user ? "_per_user" : "_one_mailbox");
    b.make = [per_user]() -> std::unique_ptr<store::mime_store> {
        std::string dir = fresh_dir("conf");
        return open_dir_store<Store>(per_user ? dir + "/%u" : dir, store::commit_mode::remove);
    };
    if (!per_user) {
        b.mailbox = "";
        b.separates_mailboxes = false;
    }
    b.tags_conversion_errors = true;
    return b;
}

inline store::item meta_of(std::string guid, std::string mailbox = {}, std::string source = {}) {
    store::item it;
    it.guid = std::move(guid);
    it.mailbox = std::move(mailbox);
    it.source_id = std::move(source);
    return it;
}

inline std::vector<store::item> all_items(store::mime_store& s, std::string mailbox = {}) {
    store::query_options q;
    q.limit = store::query_options::unlimited;
    q.mailbox = std::move(mailbox);
    auto r = s.query(q);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    return r ? r->items : std::vector<store::item>{};
}

}  // namespace izypop3::test
