#include <izypop3/store/errc.hpp>
#include <izypop3/store/postgres_store.hpp>

#include "postgres_maildrop.hpp"
#include "postgres_source.hpp"
#include "postgres_state.hpp"
#include "postgres_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <limits>

namespace izypop3::store {
namespace detail {

bool is_storable_text(std::string_view s, std::size_t max_octets) noexcept {
    if (s.size() > max_octets) return false;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        // Lead octet: sequence length and the smallest code point it may encode.
        std::size_t len = 0;
        std::uint32_t cp = 0, min = 0;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

std::int64_t to_micros(std::chrono::system_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_micros(std::int64_t us) noexcept {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(us)));
}

}  // namespace detail

namespace {

using detail::field;
using detail::pg_connection;
using detail::pg_params;
using detail::pg_result;
using detail::text_int;

// Columns of pg_statements::query_asc/desc.
enum query_column : int {
    col_count,
    col_octets,
    col_id,
    col_uidl,
    col_size,
    col_wire_size,
    col_source_id,
    col_tags,
    col_fingerprint,
    col_mailbox,
    col_created,
    col_message_time,
};

item item_from_row(const PGresult* r, int row) {
    item it;
    it.guid = std::string(field(r, row, col_uidl));
    it.size = static_cast<std::uint64_t>(text_int(r, row, col_size));
    it.wire_size = static_cast<std::uint64_t>(text_int(r, row, col_wire_size));
    it.source_id = std::string(field(r, row, col_source_id));
    if (auto tags = detail::parse_text_array(field(r, row, col_tags))) it.tags = std::move(*tags);
    it.fingerprint = std::string(field(r, row, col_fingerprint));
    it.mailbox = std::string(field(r, row, col_mailbox));
    it.created = detail::from_micros(text_int(r, row, col_created));
    if (!PQgetisnull(r, row, col_message_time))
        it.message_time = detail::from_micros(text_int(r, row, col_message_time));
    return it;
}

error_code as_error_code(const result<void>& r) {
    return r ? error_code() : r.error();
}

}  // namespace

postgres_store::postgres_store(std::shared_ptr<state> st) : state_(std::move(st)) {}

postgres_store::~postgres_store() = default;

result<std::unique_ptr<postgres_store>> postgres_store::open(const postgres_store_options& opts,
                                                             std::string& error_text) {
    if (PQisthreadsafe() == 0) {
        error_text =
            "this libpq was built without thread safety; the postgres store needs a "
            "thread-safe libpq (Debian's libpq5 is)";
        return errc::unsupported;
    }
    detail::pg_table table;
    if (auto ec =
            parse_table_name(opts.schema + "." + opts.table, table.schema, table.table, error_text))
        return ec;
    auto first = pg_connection::open({opts.dataservice, opts.accesstoken}, error_text);
    if (!first) return first.error();
    if (auto ec = detail::quote_table(**first, table, error_text)) return ec;
    if (auto ec = detail::migrate(**first, table, error_text)) return ec;
    auto st = std::make_shared<state>(opts, std::move(table));
    st->pool.give_back(std::move(*first));
    return std::unique_ptr<postgres_store>(new postgres_store(std::move(st)));
}

result<query_result> postgres_store::query(const query_options& opts) {
    query_result out;
    if (!state_->opts.mailbox.empty() && !opts.mailbox.empty() &&
        opts.mailbox != state_->opts.mailbox)
        return out;  // a pinned store has no other mailbox
    const std::string mailbox = state_->opts.mailbox.empty() ? opts.mailbox : state_->opts.mailbox;
    std::optional<std::int64_t> limit;
    if (opts.limit <= static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))
        limit = static_cast<std::int64_t>(opts.limit);
    const auto& sql =
        opts.order_by == query_options::order::asc ? state_->sql.query_asc : state_->sql.query_desc;
    auto r = state_->pool.run([&](pg_connection& c) {
        return c.exec(sql, pg_params()
                               .text(mailbox)
                               .text_array(opts.tags)
                               .text_array(opts.exclude_tags)
                               .optional_number(limit));
    });
    if (!r) return r.error();
    const PGresult* res = r->get();
    if (PQntuples(res) == 0) return out;
    out.count = static_cast<std::uint64_t>(text_int(res, 0, col_count));
    out.total_size = static_cast<std::uint64_t>(text_int(res, 0, col_octets));
    for (int row = 0; row < PQntuples(res); ++row) {
        if (PQgetisnull(res, row, col_id)) continue;  // the one row of an empty page
        out.items.push_back(item_from_row(res, row));
    }
    return out;
}

namespace {

// Pieces for open_item: each on a connection of the pool, when it is needed.
class pooled_fetcher final : public detail::pg_piece_fetcher {
  public:
    explicit pooled_fetcher(std::shared_ptr<postgres_store::state> st) : st_(std::move(st)) {}

    error_code request(std::int64_t id, std::uint64_t offset, std::uint64_t length) override {
        asked_.push_back({id, offset, length});
        return {};
    }

    result<pg_result> receive() override {
        if (asked_.empty()) return errc::io_error;
        const piece p = asked_.front();
        asked_.pop_front();
        return st_->pool.run([&](pg_connection& c) {
            return c.exec(st_->sql.read_chunk,
                          pg_params()
                              .number(p.id)
                              .number(static_cast<std::int64_t>(p.offset))
                              .number(static_cast<std::int64_t>(p.length)),
                          true);
        });
    }

  private:
    struct piece {
        std::int64_t id;
        std::uint64_t offset, length;
    };
    std::shared_ptr<postgres_store::state> st_;
    std::deque<piece> asked_;
};

}  // namespace

result<std::unique_ptr<core::message_source>> postgres_store::open_item(const item& it) {
    const std::string mailbox = state_->mailbox_for(it.mailbox);
    auto r = state_->pool.run([&](pg_connection& c) {
        return c.exec(state_->sql.open_by_uidl,
                      pg_params().text(mailbox).text(it.guid).number(detail::pg_read_chunk), true);
    });
    if (!r) return r.error();
    if (PQntuples(r->get()) == 0) return errc::not_found;
    const auto id = detail::binary_int8(r->get(), 0, 0);
    const auto size = static_cast<std::uint64_t>(detail::binary_int8(r->get(), 0, 1));
    if (field(r->get(), 0, 2).size() != std::min<std::uint64_t>(size, detail::pg_read_chunk))
        return errc::corrupt;
    return std::unique_ptr<core::message_source>(std::make_unique<detail::pg_payload_source>(
        id, size, std::move(*r), 2, std::make_unique<pooled_fetcher>(state_)));
}

result<std::unique_ptr<item_writer>> postgres_store::begin_add(item meta) {
    using limits = postgres_store_options;
    meta.mailbox = state_->mailbox_for(meta.mailbox);
    auto storable = [](std::string_view s, std::size_t max) {
        return detail::is_storable_text(s, max);
    };
    if (meta.guid.empty() || !storable(meta.guid, limits::max_name_octets) ||
        meta.guid.find_first_of("\r\n") != std::string::npos ||
        !storable(meta.mailbox, limits::max_name_octets) ||
        !storable(meta.source_id, limits::max_name_octets) ||
        !std::all_of(meta.tags.begin(), meta.tags.end(),
                     [&](const std::string& t) { return storable(t, limits::max_tag_octets); }))
        return errc::invalid_item;
    if (meta.tags.empty()) meta.tags = {std::string(tag::unread)};
    if (meta.created == std::chrono::system_clock::time_point{})
        meta.created = std::chrono::system_clock::now();
    return std::unique_ptr<item_writer>(
        std::make_unique<detail::pg_item_writer>(state_, std::move(meta)));
}

error_code postgres_store::mark(const item& it, std::string_view t) {
    if (!detail::is_storable_text(t, postgres_store_options::max_tag_octets))
        return errc::invalid_item;
    // A status tag replaces the others; any other tag is only added when absent.
    std::vector<std::string> dropped;
    if (is_status_tag(t)) dropped.assign(status_tags().begin(), status_tags().end());
    const std::string mailbox = state_->mailbox_for(it.mailbox);
    auto r = state_->pool.run([&](pg_connection& c) -> result<void> {
        auto u = c.exec(state_->sql.mark,
                        pg_params().text(mailbox).text(it.guid).text_array(dropped).text(t));
        if (!u) return u.error();
        if (detail::affected_rows(u->get()) == 0) return errc::not_found;
        return {};
    });
    return as_error_code(r);
}

error_code postgres_store::unmark(const item& it, std::string_view t) {
    if (!detail::is_storable_text(t, postgres_store_options::max_tag_octets) || t == tag::unread)
        return errc::invalid_item;
    // Without its status tag an item is unread again: an item always has a status.
    const std::string_view instead = is_status_tag(t) ? tag::unread : std::string_view();
    const std::string mailbox = state_->mailbox_for(it.mailbox);
    auto r = state_->pool.run([&](pg_connection& c) -> result<void> {
        auto u = c.exec(state_->sql.unmark,
                        pg_params().text(mailbox).text(it.guid).text(t).text(instead));
        if (!u) return u.error();
        if (detail::affected_rows(u->get()) == 0) return errc::not_found;
        return {};
    });
    return as_error_code(r);
}

void postgres_store::set_group_commit(bool on) {
    state_->group_commit.store(on);
}

error_code postgres_store::flush() {
    if (!state_->group_commit.load()) return {};
    auto r = state_->pool.run([](detail::pg_connection& c) -> boost::system::result<void> {
        // WAL is flushed in order: waiting for this commit record waits for all before it.
        if (auto ec = c.exec_script("BEGIN; SET LOCAL synchronous_commit = on; "
                                    "SELECT txid_current(); COMMIT"))
            return ec;
        return {};
    });
    return r ? error_code{} : r.error();
}

error_code postgres_store::remove(const item& it) {
    const std::string mailbox = state_->mailbox_for(it.mailbox);
    auto r = state_->pool.run([&](pg_connection& c) -> result<void> {
        auto d = c.exec(state_->sql.remove, pg_params().text(mailbox).text(it.guid));
        if (!d) return d.error();
        if (detail::affected_rows(d->get()) == 0) return errc::not_found;
        return {};
    });
    return as_error_code(r);
}

result<std::unique_ptr<core::maildrop>> postgres_store::open_maildrop(std::string_view user) {
    std::string mailbox = state_->mailbox_for(user);
    if (!detail::is_storable_text(mailbox, postgres_store_options::max_name_octets))
        return errc::no_such_mailbox;
    auto md = detail::pg_maildrop::open(state_, std::move(mailbox));
    if (!md) return md.error();
    return std::unique_ptr<core::maildrop>(std::move(*md));
}

namespace {

std::int64_t micros_of(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

result<std::uint32_t> postgres_store::record_login(std::string_view user,
                                                   std::chrono::system_clock::time_point now,
                                                   std::chrono::seconds min_interval) {
    const std::string mailbox = state_->mailbox_for(user);
    if (!detail::is_storable_text(mailbox, postgres_store_options::max_name_octets))
        return errc::invalid_item;
    auto r = state_->pool.run([&](pg_connection& c) {
        return c.exec(state_->sql.record_login, pg_params()
                                                    .text(state_->table.table)
                                                    .text(mailbox)
                                                    .number(micros_of(now))
                                                    .number(min_interval.count()));
    });
    if (!r) return r.error();
    const PGresult* res = r->get();
    if (detail::text_int(res, 0, 0) == 1) return std::uint32_t{0};
    // Refused. The last login seen by this statement's snapshot gives the time left; when
    // that is already over, another node recorded a login this very moment: a full delay.
    const auto delay_us = std::chrono::duration_cast<std::chrono::microseconds>(min_interval);
    std::chrono::microseconds left = delay_us;
    if (!PQgetisnull(res, 0, 1)) {
        const std::chrono::microseconds last(detail::text_int(res, 0, 1));
        const auto from_last = last + delay_us - std::chrono::microseconds(micros_of(now));
        if (from_last > std::chrono::microseconds::zero()) left = from_last;
    }
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(left).count();
    return static_cast<std::uint32_t>(std::max<std::int64_t>(seconds, 1));
}

result<std::uint64_t> postgres_store::expire_retrieved(
    std::string_view user, std::chrono::system_clock::time_point cutoff) {
    const std::string mailbox = state_->mailbox_for(user);
    if (!detail::is_storable_text(mailbox, postgres_store_options::max_name_octets))
        return errc::no_such_mailbox;
    const bool archive = state_->opts.commitmode == commit_mode::archive;
    auto r = state_->pool.run([&](pg_connection& c) {
        pg_params p;
        p.text(mailbox).number(micros_of(cutoff));
        if (archive) {
            std::vector<std::string> status(status_tags().begin(), status_tags().end());
            p.text_array(status);
        }
        return c.exec(archive ? state_->sql.expire_archive : state_->sql.expire_delete, p);
    });
    if (!r) return r.error();
    return detail::affected_rows(r->get());
}

std::string postgres_store::last_error() const {
    return state_->pool.last_error();
}

}  // namespace izypop3::store
