#include "dir_store_engine.hpp"

#include "dir_maildrop.hpp"

#include <izypop3/store/dir_store.hpp>
#include <izypop3/store/errc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

namespace izypop3::store {
namespace detail {
namespace {

constexpr std::size_t max_id_length = 1000;
// Mailboxes whose folder scan and metadata log stay in memory between calls; a cache
// costs about half a kilobyte a message.
constexpr std::size_t cached_mailboxes = 512;

// Why `meta` cannot be stored, or empty.
std::string invalid_item_reason(const item& meta) {
    if (meta.guid.empty()) return "the item has no guid";
    if (meta.guid.size() > max_id_length) return "the guid is longer than 1000 octets";
    if (meta.guid.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
        return "the guid contains NUL, CR or LF";
    if (meta.source_id.size() > max_id_length) return "the source id is longer than 1000 octets";
    for (const auto& t : meta.tags)
        if (t.empty()) return "the item has an empty tag";
    return {};
}

struct mailbox_item {
    located_item entry;
    std::size_t mailbox_rank = 0;
};

}  // namespace

dir_store_engine::dir_store_engine(std::unique_ptr<dir_layout> layout, path_template tpl,
                                   const dir_store_options& opts)
    : layout_(std::move(layout)),
      template_(std::move(tpl)),
      options_(opts),
      locks_(std::make_shared<maildrop_locks>(
          join_path(template_.base(),
                    template_.per_user() ? ".izypop3-maildrops" : ".izypop3-maildrops.lock"),
          template_.per_user())) {}

std::string dir_store_engine::last_error() const {
    std::shared_ptr<dir_mailbox> box;
    {
        std::lock_guard lock(mu_);
        if (own_stamp_ >= box_stamp_) return last_error_;
        box = last_box_.lock();
        if (!box) return last_error_;
    }
    return box->last_error();
}

error_code dir_store_engine::note(error_code ec, const dir_mailbox& box) {
    if (ec) return note(ec, box.last_error());
    return ec;
}

error_code dir_store_engine::note(error_code ec, std::string text) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(text);
    own_stamp_ = ++ops_;
    return ec;
}

std::shared_ptr<dir_mailbox> dir_store_engine::mailbox_of(const std::string& name) {
    std::string key = template_.per_user() ? name : std::string();
    if (template_.per_user()) {
        auto why = unsafe_user_reason(key);
        if (!why.empty()) {
            (void)note(errc::no_such_mailbox, fmt::format("user name '{}' {}", key, why));
            return nullptr;
        }
    }
    std::vector<std::shared_ptr<dir_mailbox>> idle;
    std::shared_ptr<dir_mailbox> box;
    {
        std::lock_guard lock(mu_);
        box_stamp_ = ++ops_;
        auto it = mailboxes_.find(key);
        if (it == mailboxes_.end()) {
            auto made = std::make_shared<dir_mailbox>(*layout_, template_.for_user(key), key,
                                                      template_.per_user());
            if (group_commit_) made->set_group_commit(true);
            it = mailboxes_.emplace(key, mailbox_entry{std::move(made), recent_.end()}).first;
        }
        auto& entry = it->second;
        if (entry.recent != recent_.end()) {
            recent_.splice(recent_.begin(), recent_, entry.recent);
        } else {
            recent_.push_front(entry.box.get());
            entry.recent = recent_.begin();
            idle = least_recently_used();
        }
        last_box_ = entry.box;
        box = entry.box;
    }
    // Outside the store's lock: a mailbox busy in a write keeps its cache for now.
    for (auto& b : idle) b->forget_cache();
    return box;
}

std::vector<std::shared_ptr<dir_mailbox>> dir_store_engine::least_recently_used() {
    std::vector<std::shared_ptr<dir_mailbox>> out;
    while (recent_.size() > cached_mailboxes) {
        dir_mailbox* oldest = recent_.back();
        recent_.pop_back();
        auto it = mailboxes_.find(oldest->mailbox_name());
        if (it == mailboxes_.end()) continue;
        it->second.recent = recent_.end();
        out.push_back(it->second.box);
    }
    return out;
}

result<query_result> dir_store_engine::query(const query_options& opts) {
    std::vector<std::string> names;
    if (!template_.per_user()) {
        names.emplace_back();
    } else if (!opts.mailbox.empty()) {
        if (!unsafe_user_reason(opts.mailbox).empty()) return query_result{};
        names.push_back(opts.mailbox);
    } else if (int err = template_.existing_users(names)) {
        return note(
            errno_to_errc(err) == errc::not_found ? errc::io_error : errno_to_errc(err),
            errno_text(fmt::format("cannot list the mailboxes in {}", template_.base()), err));
    }
    std::vector<mailbox_item> all;
    std::vector<located_item> one;
    for (std::size_t rank = 0; rank < names.size(); ++rank) {
        auto box = mailbox_of(names[rank]);
        if (!box) continue;
        if (auto ec = box->snapshot(one)) return note(ec, *box);
        for (auto& e : one) all.push_back(mailbox_item{std::move(e), rank});
    }
    // Each mailbox is already in its order of arrival; across mailboxes the arrival time
    // decides, then the mailbox name, so the order is the same in every call.
    std::stable_sort(all.begin(), all.end(), [](const mailbox_item& a, const mailbox_item& b) {
        if (a.entry.arrival_us != b.entry.arrival_us)
            return a.entry.arrival_us < b.entry.arrival_us;
        return a.mailbox_rank < b.mailbox_rank;
    });
    query_result out;
    auto visit = [&](const mailbox_item& m) {
        const item& it = m.entry.it;
        if (!has_all_tags(it, opts.tags) || has_any_tag(it, opts.exclude_tags)) return;
        ++out.count;
        out.total_size += it.size;
        if (out.items.size() < opts.limit) out.items.push_back(it);
    };
    if (opts.order_by == query_options::order::asc) {
        for (const auto& m : all) visit(m);
    } else {
        for (auto r = all.rbegin(); r != all.rend(); ++r) visit(*r);
    }
    return out;
}

result<std::unique_ptr<core::message_source>> dir_store_engine::open_item(const item& it) {
    auto box = mailbox_of(it.mailbox);
    if (!box) return errc::not_found;
    auto src = box->open_item(it);
    if (!src) return note(src.error(), *box);
    return src;
}

result<std::unique_ptr<item_writer>> dir_store_engine::begin_add(item meta) {
    auto why = invalid_item_reason(meta);
    if (!why.empty()) return note(errc::invalid_item, fmt::format("cannot add an item: {}", why));
    if (!template_.per_user()) meta.mailbox.clear();
    auto box = mailbox_of(meta.mailbox);
    if (!box) return errc::invalid_item;
    if (meta.tags.empty()) meta.tags = {std::string(tag::unread)};
    if (meta.created == std::chrono::system_clock::time_point{})
        meta.created = std::chrono::system_clock::now();
    auto w = box->begin_add(std::move(meta));
    if (!w) return note(w.error(), *box);
    return w;
}

error_code dir_store_engine::mark(const item& it, std::string_view t) {
    if (t.empty()) return note(errc::invalid_item, "cannot mark an item with an empty tag");
    auto box = mailbox_of(it.mailbox);
    if (!box) return errc::not_found;
    return note(box->change_tags(it,
                                 [t](std::vector<std::string> tags) {
                                     return tags_after_mark(std::move(tags), t);
                                 }),
                *box);
}

error_code dir_store_engine::unmark(const item& it, std::string_view t) {
    if (t.empty() || t == tag::unread)
        return note(errc::invalid_item, "cannot remove an empty tag, or unread (mark another "
                                         "status instead)");
    auto box = mailbox_of(it.mailbox);
    if (!box) return errc::not_found;
    return note(box->change_tags(it,
                                 [t](std::vector<std::string> tags) {
                                     return tags_after_unmark(std::move(tags), t);
                                 }),
                *box);
}

error_code dir_store_engine::remove(const item& it) {
    auto box = mailbox_of(it.mailbox);
    if (!box) return errc::not_found;
    return note(box->remove(it), *box);
}

result<std::unique_ptr<core::maildrop>> dir_store_engine::open_maildrop(mime_store& self,
                                                                        std::string_view user) {
    std::string name(user);
    auto box = mailbox_of(name);
    if (!box) return errc::no_such_mailbox;
    // A user without a mailbox directory has an empty maildrop: nothing to lock, nothing to
    // delete, and nothing is created for a name that merely logged in.
    maildrop_locks::hold lock;
    if (box->exists()) {
        auto held = locks_->acquire(*box);
        if (!held) return note(held.error(), *box);
        lock = std::move(*held);
    }
    auto md = dir_maildrop::make(self, box, std::move(lock), options_.commitmode);
    if (!md) return note(md.error(), *box);
    return std::unique_ptr<core::maildrop>(std::move(*md));
}

}  // namespace detail

dir_store::dir_store(std::unique_ptr<detail::dir_store_engine> engine)
    : engine_(std::move(engine)) {}

dir_store::~dir_store() = default;

result<query_result> dir_store::query(const query_options& opts) {
    return engine_->query(opts);
}

result<std::unique_ptr<core::message_source>> dir_store::open_item(const item& it) {
    return engine_->open_item(it);
}

result<std::unique_ptr<item_writer>> dir_store::begin_add(item meta) {
    return engine_->begin_add(std::move(meta));
}

error_code dir_store::mark(const item& it, std::string_view t) { return engine_->mark(it, t); }
error_code dir_store::unmark(const item& it, std::string_view t) {
    return engine_->unmark(it, t);
}

error_code dir_store::remove(const item& it) {
    return engine_->remove(it);
}

result<std::unique_ptr<core::maildrop>> dir_store::open_maildrop(std::string_view user) {
    return engine_->open_maildrop(*this, user);
}

std::string dir_store::last_error() const {
    return engine_->last_error();
}

void dir_store::set_group_commit(bool on) {
    engine_->set_group_commit(on);
}

error_code dir_store::flush() {
    return engine_->flush();
}

void detail::dir_store_engine::set_group_commit(bool on) {
    std::lock_guard lock(mu_);
    group_commit_ = on;
    for (auto& [name, entry] : mailboxes_) entry.box->set_group_commit(on);
}

error_code detail::dir_store_engine::flush() {
    std::vector<std::shared_ptr<detail::dir_mailbox>> boxes;
    {
        std::lock_guard lock(mu_);
        for (auto& [name, entry] : mailboxes_) boxes.push_back(entry.box);
    }
    for (auto& box : boxes) {
        if (auto ec = box->flush()) return note(ec, *box);
    }
    return {};
}

}  // namespace izypop3::store
