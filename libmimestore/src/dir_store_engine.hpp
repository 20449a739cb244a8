#pragma once
// The work behind dir_store (dir_store.hpp): routes items and users to their mailbox
// directory (one, or one per user with %u), merges queries across mailboxes, and opens
// POP3 maildrops under each mailbox's flock.

#include "dir_layout.hpp"
#include "dir_mailbox.hpp"
#include "maildrop_locks.hpp"
#include "path_template.hpp"

#include <izypop3/store/dir_store.hpp>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store::detail {

class dir_store_engine {
  public:
    dir_store_engine(std::unique_ptr<dir_layout> layout, path_template tpl,
                     const dir_store_options& opts);

    result<query_result> query(const query_options& opts);
    result<std::unique_ptr<core::message_source>> open_item(const item& it);
    result<std::unique_ptr<item_writer>> begin_add(item meta);
    error_code mark(const item& it, std::string_view t);
    error_code unmark(const item& it, std::string_view t);
    error_code remove(const item& it);
    result<std::unique_ptr<core::maildrop>> open_maildrop(mime_store& self, std::string_view user);
    std::string last_error() const;
    void set_group_commit(bool on);
    error_code flush();

  private:
    // The mailbox of `name` ("" without %u), or nullptr (and last_error) for a name that may
    // not become a directory.
    std::shared_ptr<dir_mailbox> mailbox_of(const std::string& name);
    error_code note(error_code ec, const dir_mailbox& box);
    error_code note(error_code ec, std::string text);

    std::unique_ptr<dir_layout> layout_;
    path_template template_;
    dir_store_options options_;
    std::shared_ptr<maildrop_locks> locks_;

    // Beyond cached_mailboxes recently used mailboxes, the least recently used ones, which
    // should drop their caches (a server with many users keeps memory for the busy ones).
    // Under mu_.
    std::vector<std::shared_ptr<dir_mailbox>> least_recently_used();

    struct mailbox_entry {
        std::shared_ptr<dir_mailbox> box;
        std::list<dir_mailbox*>::iterator recent;  // recent_.end(): cache already dropped
    };

    mutable std::mutex mu_;
    std::map<std::string, mailbox_entry, std::less<>> mailboxes_;
    std::list<dir_mailbox*> recent_;  // most recently used first
    std::string last_error_;
    // Which of the engine's own text and the last mailbox used is the more recent failure.
    std::weak_ptr<dir_mailbox> last_box_;
    std::uint64_t ops_ = 0;
    std::uint64_t own_stamp_ = 0;
    std::uint64_t box_stamp_ = 0;
    bool group_commit_ = false;
};

}  // namespace izypop3::store::detail
