#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/errc.hpp>
#include <izypop3/store/fake_store.hpp>

#include "fake_message.hpp"
#include "sha256.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <utility>

namespace izypop3::store {
namespace {

using key_type = std::pair<std::string, std::string>;  // (mailbox, guid)

struct entry {
    item meta;
    std::uint64_t index = 0;                       // generated message number; 0 = added
    std::shared_ptr<const std::string> payload;    // octets of an added item
};

class shared_string_source final : public core::message_source {
public:
    explicit shared_string_source(std::shared_ptr<const std::string> data)
        : data_(std::move(data)) {}
    boost::system::result<std::size_t> read(std::span<char> buf) override {
        std::size_t n = std::min(buf.size(), data_->size() - pos_);
        if (n > 0) std::memcpy(buf.data(), data_->data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    std::shared_ptr<const std::string> data_;
    std::size_t pos_ = 0;
};

bool equal_ci(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

struct fake_store::state {
    state(const fake_store_options& o) : gen(o.seed, o.bigsize), mode(o.commitmode) {}

    std::mutex mu;
    const detail::fake_generator gen;
    const commit_mode mode;
    std::map<std::uint64_t, entry> entries;  // in insertion order: the query order
    std::map<key_type, std::uint64_t> by_key;
    std::uint64_t next_seq = 1;
    std::set<std::string, std::less<>> locked_users;

    // All of these expect `mu` to be held.
    entry* find(const item& it) {
        auto k = by_key.find(key_type(it.mailbox, it.guid));
        return k == by_key.end() ? nullptr : &entries.at(k->second);
    }

    void erase(const item& it) {
        auto k = by_key.find(key_type(it.mailbox, it.guid));
        if (k == by_key.end()) return;
        entries.erase(k->second);
        by_key.erase(k);
    }

    void insert(entry e) {
        auto seq = next_seq++;
        by_key.emplace(key_type(e.meta.mailbox, e.meta.guid), seq);
        entries.emplace(seq, std::move(e));
    }

    std::unique_ptr<core::message_source> source_of(const entry& e) const {
        if (e.payload) return std::make_unique<shared_string_source>(e.payload);
        return gen.open(e.index);
    }

    bool same_octets(const entry& e, std::string_view data) const {
        if (e.meta.size != data.size()) return false;
        if (e.payload) return *e.payload == data;
        auto src = gen.open(e.index);
        std::array<char, 16384> buf{};
        std::size_t pos = 0;
        for (;;) {
            auto n = src->read(buf);
            if (!n || *n == 0) return n && pos == data.size();
            if (data.substr(pos, *n) != std::string_view(buf.data(), *n)) return false;
            pos += *n;
        }
    }
};

namespace {

class fake_writer final : public item_writer {
public:
    fake_writer(std::shared_ptr<fake_store::state> st, item meta)
        : state_(std::move(st)), meta_(std::move(meta)) {}

    error_code write(std::string_view chunk) override {
        if (done_) return errc::writer_finished;
        data_.append(chunk);
        hash_.update(chunk);
        wire_.add(chunk);
        return {};
    }

    result<add_outcome> commit() override {
        if (done_) return errc::writer_finished;
        done_ = true;
        std::string fp = hash_.hex_digest();
        if (!meta_.fingerprint.empty() && !equal_ci(meta_.fingerprint, fp))
            return errc::corrupt;
        meta_.fingerprint = std::move(fp);
        meta_.size = data_.size();
        meta_.wire_size = wire_.finish();
        auto payload = std::make_shared<const std::string>(std::move(data_));

        std::lock_guard lock(state_->mu);
        {
            // A record of a failed fetch gives way to whatever comes under its guid, and
            // never stands in for a stored message.
            item probe;
            probe.mailbox = meta_.mailbox;
            probe.guid = meta_.guid;
            if (const entry* e = state_->find(probe)) {
                if (has_tag(e->meta, tag::pop3failed)) {
                    state_->erase(probe);
                } else if (has_tag(meta_, tag::pop3failed)) {
                    return add_outcome::already_present;
                }
            }
        }
        // The original's localfs stores a second copy under "<name>.dup"; a retry of the
        // same octets (a backup run killed between store and DELE) must not add another.
        std::string guid = meta_.guid;
        bool is_dup = false;
        for (unsigned n = 1;; ++n) {
            item probe;
            probe.mailbox = meta_.mailbox;
            probe.guid = guid;
            const entry* e = state_->find(probe);
            if (e == nullptr) break;
            if (state_->same_octets(*e, *payload)) return add_outcome::already_present;
            is_dup = true;
            guid = meta_.guid + ".dup" + (n == 1 ? std::string() : std::to_string(n));
        }
        meta_.guid = std::move(guid);
        if (is_dup) meta_.tags = {std::string(tag::dup)};
        state_->insert(entry{std::move(meta_), 0, std::move(payload)});
        return is_dup ? add_outcome::duplicate : add_outcome::added;
    }

    void abort() noexcept override {
        done_ = true;
        data_.clear();
        data_.shrink_to_fit();
    }

private:
    std::shared_ptr<fake_store::state> state_;
    item meta_;
    std::string data_;
    detail::sha256 hash_;
    core::wire_size_counter wire_;
    bool done_ = false;
};

}  // namespace

fake_store::fake_store(const fake_store_options& opts)
    : state_(std::make_shared<state>(opts)) {
    assert(opts.count <= fake_store_options::max_count);
    assert(opts.bigsize >= fake_store_options::min_bigsize &&
           opts.bigsize <= fake_store_options::max_bigsize);
    for (std::uint64_t i = 1; i <= opts.count; ++i)
        state_->insert(entry{state_->gen.describe(i), i, nullptr});
}

fake_store::~fake_store() = default;

result<query_result> fake_store::query(const query_options& opts) {
    query_result out;
    std::lock_guard lock(state_->mu);
    auto visit = [&](const entry& e) {
        const item& it = e.meta;
        if (!opts.mailbox.empty() && it.mailbox != opts.mailbox) return;
        if (!has_all_tags(it, opts.tags) || has_any_tag(it, opts.exclude_tags)) return;
        ++out.count;
        out.total_size += it.size;
        if (out.items.size() < opts.limit) out.items.push_back(it);
    };
    if (opts.order_by == query_options::order::asc) {
        for (const auto& [seq, e] : state_->entries) visit(e);
    } else {
        for (auto r = state_->entries.rbegin(); r != state_->entries.rend(); ++r) visit(r->second);
    }
    return out;
}

result<std::unique_ptr<core::message_source>> fake_store::open_item(const item& it) {
    std::lock_guard lock(state_->mu);
    const entry* e = state_->find(it);
    if (e == nullptr) return errc::not_found;
    return state_->source_of(*e);
}

result<std::unique_ptr<item_writer>> fake_store::begin_add(item meta) {
    if (meta.guid.empty() || meta.guid.find_first_of(std::string_view("\0\r\n", 3)) !=
                                 std::string::npos)
        return errc::invalid_item;
    if (meta.tags.empty()) meta.tags = {std::string(tag::unread)};
    if (meta.created == std::chrono::system_clock::time_point{})
        meta.created = std::chrono::system_clock::now();
    return std::unique_ptr<item_writer>(std::make_unique<fake_writer>(state_, std::move(meta)));
}

error_code fake_store::mark(const item& it, std::string_view t) {
    std::lock_guard lock(state_->mu);
    entry* e = state_->find(it);
    if (e == nullptr) return errc::not_found;
    auto& tags = e->meta.tags;
    if (is_status_tag(t)) {
        std::erase_if(tags, [](const std::string& x) { return is_status_tag(x); });
        tags.emplace_back(t);
    } else if (!has_tag(e->meta, t)) {
        tags.emplace_back(t);
    }
    return {};
}

error_code fake_store::remove(const item& it) {
    std::lock_guard lock(state_->mu);
    if (state_->find(it) == nullptr) return errc::not_found;
    state_->erase(it);
    return {};
}

result<std::unique_ptr<core::maildrop>> fake_store::open_maildrop(std::string_view user) {
    {
        std::lock_guard lock(state_->mu);
        if (!state_->locked_users.emplace(user).second) return errc::in_use;
    }
    // The release hook holds the state, not the store, so a maildrop that outlives the
    // store by mistake still unlocks safely (reading through it would not be safe).
    std::weak_ptr<state> weak = state_;
    auto release = [weak, name = std::string(user)] {
        if (auto st = weak.lock()) {
            std::lock_guard lock(st->mu);
            st->locked_users.erase(name);
        }
    };
    // Every user sees the same generated mailbox, as in the original demo ("" = all).
    auto md = store_maildrop::open(*this, std::string(), state_->mode, std::move(release));
    if (!md) return md.error();
    return std::unique_ptr<core::maildrop>(std::move(*md));
}

}  // namespace izypop3::store
