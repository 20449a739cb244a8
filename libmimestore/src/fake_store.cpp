#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/errc.hpp>
#include <izypop3/store/fake_store.hpp>

#include "fake_message.hpp"
#include "memory_source.hpp"
#include "sha256.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <variant>
#include <vector>

namespace izypop3::store {
namespace {

using key_type = std::pair<std::string, std::string>;  // (mailbox, guid)

// An item added through begin_add.
struct added_entry {
    item meta;
    std::shared_ptr<const std::string> payload;
};

// One mailbox's own copy of the generated messages: only what changed is kept, so a mailbox
// nobody changed costs nothing but its name.
struct generated_copy {
    std::set<std::uint64_t> removed;
    std::map<std::uint64_t, std::vector<std::string>> tags;  // where they differ
};

// The query order: a mailbox's generated copy sits where the mailbox was first used, each
// added item where it was added.
using slot = std::variant<std::string /* a mailbox's generated copy */, added_entry>;

bool equal_ci(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

struct fake_store::state {
    explicit state(const fake_store_options& o) : gen(o.seed, o.bigsize), mode(o.commitmode) {
        generated.reserve(o.count);
        for (std::uint64_t i = 1; i <= o.count; ++i) generated.push_back(gen.describe(i));
        use_mailbox("");
    }

    // An item of the store: an added one, or generated message `index` of a mailbox.
    struct found {
        added_entry* added = nullptr;
        std::uint64_t index = 0;
        generated_copy* copy = nullptr;
        explicit operator bool() const noexcept { return added != nullptr || index != 0; }
    };

    std::mutex mu;
    const detail::fake_generator gen;
    const commit_mode mode;
    std::vector<item> generated;  // metadata of guid_1..guid_N, mailbox ""
    std::map<std::string, generated_copy, std::less<>> copies;
    std::map<std::uint64_t, slot> order;
    std::map<key_type, std::uint64_t> added_by_key;
    std::uint64_t next_seq = 1;
    std::set<std::string, std::less<>> locked_users;

    // All of these expect `mu` to be held.
    generated_copy& use_mailbox(std::string_view mailbox) {
        auto it = copies.find(mailbox);
        if (it != copies.end()) return it->second;
        order.emplace(next_seq++, slot(std::in_place_index<0>, mailbox));
        return copies.emplace(std::string(mailbox), generated_copy{}).first->second;
    }

    // The index of generated message `guid`, or 0 when `guid` names none.
    std::uint64_t generated_index(std::string_view guid) const {
        constexpr std::string_view prefix = "guid_";
        if (!guid.starts_with(prefix) || guid.size() == prefix.size()) return 0;
        std::uint64_t n = 0;
        const auto digits = guid.substr(prefix.size());
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc{} || end != digits.data() + digits.size() || digits[0] == '0') return 0;
        return n <= generated.size() ? n : 0;
    }

    found find(const item& it) {
        found f;
        if (auto k = added_by_key.find(key_type(it.mailbox, it.guid)); k != added_by_key.end()) {
            f.added = &std::get<added_entry>(order.at(k->second));
            return f;
        }
        const std::uint64_t index = generated_index(it.guid);
        if (index == 0) return f;
        generated_copy& copy = use_mailbox(it.mailbox);
        if (copy.removed.count(index) != 0) return f;
        f.index = index;
        f.copy = &copy;
        return f;
    }

    item generated_item(std::string_view mailbox, const generated_copy& copy,
                        std::uint64_t index) const {
        item it = generated[index - 1];
        it.mailbox = mailbox;
        if (auto t = copy.tags.find(index); t != copy.tags.end()) it.tags = t->second;
        return it;
    }

    const item& meta_of(const found& f, item& scratch, std::string_view mailbox) const {
        if (f.added != nullptr) return f.added->meta;
        scratch = generated_item(mailbox, *f.copy, f.index);
        return scratch;
    }

    void insert(added_entry e) {
        use_mailbox(e.meta.mailbox);
        const auto seq = next_seq++;
        added_by_key.emplace(key_type(e.meta.mailbox, e.meta.guid), seq);
        order.emplace(seq, slot(std::in_place_index<1>, std::move(e)));
    }

    // Removes what `f` found (`it` names it).
    void erase(const found& f, const item& it) {
        if (f.added == nullptr) {
            f.copy->removed.insert(f.index);
            f.copy->tags.erase(f.index);
            return;
        }
        const auto k = added_by_key.find(key_type(it.mailbox, it.guid));
        order.erase(k->second);
        added_by_key.erase(k);
    }

    std::unique_ptr<core::message_source> source_of(const found& f) const {
        if (f.added != nullptr) return std::make_unique<detail::memory_source>(f.added->payload);
        return gen.open(f.index);
    }

    bool same_octets(const found& f, std::string_view data) const {
        if (f.added != nullptr) return *f.added->payload == data;
        if (generated[f.index - 1].size != data.size()) return false;
        auto src = gen.open(f.index);
        std::array<char, 16384> buf{};
        std::size_t pos = 0;
        for (;;) {
            auto n = src->read(buf);
            if (!n || *n == 0) return n && pos == data.size();
            if (data.substr(pos, *n) != std::string_view(buf.data(), *n)) return false;
            pos += *n;
        }
    }

    // Calls `visit` with each item of `mailbox` ("" = every mailbox in use), in query order.
    template <class Visit>
    void each_item(const query_options& opts, Visit&& visit) {
        if (!opts.mailbox.empty()) use_mailbox(opts.mailbox);
        const bool asc = opts.order_by == query_options::order::asc;
        auto visit_slot = [&](const slot& sl) {
            if (const auto* e = std::get_if<added_entry>(&sl)) {
                if (opts.mailbox.empty() || e->meta.mailbox == opts.mailbox) visit(e->meta);
                return;
            }
            const std::string& mailbox = std::get<std::string>(sl);
            if (!opts.mailbox.empty() && mailbox != opts.mailbox) return;
            const generated_copy& copy = copies.find(mailbox)->second;
            const std::uint64_t n = generated.size();
            for (std::uint64_t k = 1; k <= n; ++k) {
                const std::uint64_t index = asc ? k : n + 1 - k;
                if (copy.removed.count(index) == 0) visit(generated_item(mailbox, copy, index));
            }
        };
        if (asc) {
            for (const auto& [seq, sl] : order) visit_slot(sl);
        } else {
            for (auto r = order.rbegin(); r != order.rend(); ++r) visit_slot(r->second);
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
            if (const auto f = state_->find(probe)) {
                item scratch;
                if (has_tag(state_->meta_of(f, scratch, probe.mailbox), tag::pop3failed)) {
                    state_->erase(f, probe);
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
            const auto f = state_->find(probe);
            if (!f) break;
            if (state_->same_octets(f, *payload)) return add_outcome::already_present;
            is_dup = true;
            guid = meta_.guid + ".dup" + (n == 1 ? std::string() : std::to_string(n));
        }
        meta_.guid = std::move(guid);
        if (is_dup) meta_.tags = {std::string(tag::dup)};
        state_->insert(added_entry{std::move(meta_), std::move(payload)});
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
}

fake_store::~fake_store() = default;

result<query_result> fake_store::query(const query_options& opts) {
    query_result out;
    std::lock_guard lock(state_->mu);
    state_->each_item(opts, [&](const item& it) {
        if (!has_all_tags(it, opts.tags) || has_any_tag(it, opts.exclude_tags)) return;
        ++out.count;
        out.total_size += it.size;
        if (out.items.size() < opts.limit) out.items.push_back(it);
    });
    return out;
}

result<std::unique_ptr<core::message_source>> fake_store::open_item(const item& it) {
    std::lock_guard lock(state_->mu);
    const auto f = state_->find(it);
    if (!f) return errc::not_found;
    return state_->source_of(f);
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
    return change_tags(it, [t](std::vector<std::string> tags) {
        return tags_after_mark(std::move(tags), t);
    });
}

error_code fake_store::unmark(const item& it, std::string_view t) {
    if (t == tag::unread) return errc::invalid_item;
    return change_tags(it, [t](std::vector<std::string> tags) {
        return tags_after_unmark(std::move(tags), t);
    });
}

error_code fake_store::change_tags(
    const item& it,
    const std::function<std::vector<std::string>(std::vector<std::string>)>& rule) {
    std::lock_guard lock(state_->mu);
    const auto f = state_->find(it);
    if (!f) return errc::not_found;
    if (f.added != nullptr) {
        f.added->meta.tags = rule(std::move(f.added->meta.tags));
        return {};
    }
    item scratch;
    f.copy->tags[f.index] = rule(state_->meta_of(f, scratch, it.mailbox).tags);
    return {};
}

error_code fake_store::remove(const item& it) {
    std::lock_guard lock(state_->mu);
    const auto f = state_->find(it);
    if (!f) return errc::not_found;
    state_->erase(f, it);
    return {};
}

result<std::unique_ptr<core::maildrop>> fake_store::open_maildrop(std::string_view user) {
    {
        std::lock_guard lock(state_->mu);
        if (!state_->locked_users.emplace(user).second) return errc::in_use;
        state_->use_mailbox(user);
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
    // Each user has a mailbox of their own: the generated messages and what was added for
    // them, so one user's deletions never reach another's maildrop.
    auto md = store_maildrop::open(*this, std::string(user), state_->mode, std::move(release));
    if (!md) return md.error();
    return std::unique_ptr<core::maildrop>(std::move(*md));
}

}  // namespace izypop3::store
