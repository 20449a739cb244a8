#include "postgres_maildrop.hpp"

#include "maildrop_uids.hpp"
#include "memory_source.hpp"
#include "postgres_lock_key.hpp"
#include "postgres_source.hpp"
#include "postgres_state.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <mutex>

namespace izypop3::store::detail {
namespace {

constexpr std::chrono::milliseconds unlock_timeout{5000};

// Rows 1.. of an open_ahead result: the whole payloads of messages from..to, by id (a row
// missing is a message gone, which open() will then find out again).
void keep_ahead(const PGresult* r, std::span<const std::int64_t> ids, std::size_t from,
                std::size_t to, std::map<std::size_t, std::string>& ahead) {
    for (int row = 1; row < PQntuples(r); ++row) {
        const std::int64_t id = binary_int8(r, row, 0);
        const auto at = std::find(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                  ids.begin() + static_cast<std::ptrdiff_t>(to), id);
        const auto payload = field(r, row, 2);
        if (at == ids.begin() + static_cast<std::ptrdiff_t>(to)) continue;
        if (static_cast<std::uint64_t>(binary_int8(r, row, 1)) != payload.size()) continue;
        ahead[static_cast<std::size_t>(at - ids.begin())] = std::string(payload);
    }
}

}  // namespace

// The connection of one POP3 session. Message sources share it with the maildrop (a source
// may be destroyed after the maildrop), so it goes back to the pool only when both are gone.
struct pg_session {
    std::shared_ptr<postgres_store::state> st;
    std::mutex mu;  // the maildrop and its sources may be used from different threads in turn
    std::unique_ptr<pg_connection> conn;
    std::int64_t lock_key = 0;
    bool locked = false;

    ~pg_session() {
        // A connection that may still hold the lock is closed, never reused.
        if (conn && !locked) st->pool.give_back(std::move(conn));
    }

    // The statements of a session repeat for every session: prepared once per connection.
    boost::system::result<pg_result> exec(const std::string& sql, const pg_params& p,
                                          bool binary = false) {
        if (!conn) return errc::io_error;
        auto r = conn->exec_prepared(sql, p, binary);
        if (!r) st->pool.note_error(conn->error_text());
        return r;
    }
};

namespace {

// A message's later pieces on the session's connection, pipelined: asked for ahead, so
// that one is on its way while the caller sends the one before.
class session_fetcher final : public pg_piece_fetcher {
  public:
    explicit session_fetcher(std::shared_ptr<pg_session> s) : s_(std::move(s)) {}

    ~session_fetcher() override {
        std::lock_guard lock(s_->mu);
        // The connection must be free for the session's next statement.
        for (; owed_ > 0 && s_->conn; --owed_) (void)s_->conn->receive();
    }

    boost::system::error_code request(std::int64_t id, std::uint64_t offset,
                                      std::uint64_t length) override {
        std::lock_guard lock(s_->mu);
        if (!s_->conn) return errc::io_error;
        auto ec = s_->conn->send_prepared(s_->st->sql.read_chunk,
                                          pg_params()
                                              .number(id)
                                              .number(static_cast<std::int64_t>(offset))
                                              .number(static_cast<std::int64_t>(length)),
                                          true);
        if (ec) {
            s_->st->pool.note_error(s_->conn->error_text());
            return ec;
        }
        ++owed_;
        return {};
    }

    boost::system::result<pg_result> receive() override {
        std::lock_guard lock(s_->mu);
        if (!s_->conn || owed_ == 0) return errc::io_error;
        --owed_;
        auto r = s_->conn->receive();
        if (!r) s_->st->pool.note_error(s_->conn->error_text());
        return r;
    }

  private:
    std::shared_ptr<pg_session> s_;
    std::size_t owed_ = 0;  // requests of this source not yet received
};

}  // namespace

boost::system::result<std::unique_ptr<pg_maildrop>> pg_maildrop::open(
    std::shared_ptr<postgres_store::state> st, std::string mailbox) {
    auto session = std::make_shared<pg_session>();
    session->st = st;
    std::string lock_name = st->table.schema + "." + st->table.table;
    lock_name.push_back('\0');
    lock_name += mailbox;
    session->lock_key = pg_lock_key("maildrop", lock_name);

    for (int attempt = 0;; ++attempt) {
        bool reused = false;
        auto c = st->pool.take(reused);
        if (!c) return c.error();
        auto r = (*c)->exec_prepared("SELECT pg_try_advisory_lock($1::bigint)",
                                     pg_params().number(session->lock_key));
        if (!r) {
            st->pool.note_error((*c)->error_text());
            // An idle connection from before a server restart: try once on a new one.
            if (attempt == 0 && reused && (*c)->lost()) {
                st->pool.drop_idle();
                continue;
            }
            return r.error();
        }
        if (field(r->get(), 0, 0) != "t") {
            st->pool.give_back(std::move(*c));
            return errc::in_use;
        }
        session->conn = std::move(*c);
        session->locked = true;
        break;
    }

    // Constructed now, so that every failure below releases the lock.
    std::unique_ptr<pg_maildrop> md(new pg_maildrop(session));
    auto snap = session->exec(st->sql.snapshot, pg_params().text(mailbox));
    if (!snap) return snap.error();
    const PGresult* res = snap->get();
    const int rows = PQntuples(res);
    md->ids_.reserve(static_cast<std::size_t>(rows));
    md->infos_.reserve(static_cast<std::size_t>(rows));
    maildrop_uids uids;
    for (int row = 0; row < rows; ++row) {
        std::string uid = uids.next(mailbox, field(res, row, 1));
        md->ids_.push_back(text_int(res, row, 0));
        md->infos_.push_back(
            core::message_info{static_cast<std::uint64_t>(text_int(res, row, 2)), std::move(uid)});
    }
    return md;
}

pg_maildrop::~pg_maildrop() {
    std::lock_guard lock(session_->mu);
    if (!session_->locked || !session_->conn) return;
    // Released explicitly rather than by closing: the server frees a closed session's locks
    // a moment later, and a client logging in again at once (on any node) must not find the
    // mailbox still in use.
    if (session_->conn->exec_bounded("SELECT pg_advisory_unlock($1::bigint)",
                                     pg_params().number(session_->lock_key), unlock_timeout)) {
        session_->locked = false;
    } else {
        session_->conn.reset();
    }
}

const std::vector<core::message_info>& pg_maildrop::messages() const noexcept {
    return infos_;
}

bool pg_maildrop::opens_at_once(std::size_t index) const noexcept {
    return ahead_.count(index) > 0;
}

// One past the last message fetched with `index`: the small ones that follow it, within
// the count and octet budgets.
std::size_t pg_maildrop::ahead_end(std::size_t index) const {
    std::size_t end = index + 1;
    std::uint64_t octets = 0;
    while (end < infos_.size() && end - index <= ahead_count) {
        const std::uint64_t size = infos_[end].size;
        if (size > ahead_largest || octets + size > ahead_octets) break;
        octets += size;
        ++end;
    }
    return end;
}

boost::system::result<std::unique_ptr<core::message_source>> pg_maildrop::open(std::size_t index) {
    assert(index < ids_.size());
    if (index >= ids_.size()) return errc::not_found;
    if (auto it = ahead_.find(index); it != ahead_.end()) {
        auto src = std::make_unique<memory_source>(std::move(it->second));
        ahead_.erase(it);
        return std::unique_ptr<core::message_source>(std::move(src));
    }
    // A miss starts a new window: what was fetched before and not read is let go, so a
    // session holds at most one window's octets.
    ahead_.clear();
    const std::size_t end = ahead_end(index);
    const std::int64_t id = ids_[index];
    const std::vector<std::int64_t> ids(ids_.begin() + static_cast<std::ptrdiff_t>(index),
                                        ids_.begin() + static_cast<std::ptrdiff_t>(end));
    std::unique_lock lock(session_->mu);
    auto r = session_->exec(session_->st->sql.open_ahead,
                            pg_params().number_array(ids).number(pg_read_chunk).number(id), true);
    lock.unlock();
    if (!r) return r.error();
    if (PQntuples(r->get()) == 0 || binary_int8(r->get(), 0, 0) != id) return errc::not_found;
    const auto size = static_cast<std::uint64_t>(binary_int8(r->get(), 0, 1));
    if (field(r->get(), 0, 2).size() != std::min<std::uint64_t>(size, pg_read_chunk))
        return errc::corrupt;
    keep_ahead(r->get(), ids_, index + 1, end, ahead_);
    return std::unique_ptr<core::message_source>(std::make_unique<pg_payload_source>(
        id, size, std::move(*r), 2, std::make_unique<session_fetcher>(session_)));
}

boost::system::error_code pg_maildrop::commit_deletions(std::span<const std::size_t> indices) {
    std::vector<std::size_t> todo(indices.begin(), indices.end());
    std::sort(todo.begin(), todo.end());
    todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
    if (!todo.empty() && todo.back() >= ids_.size()) {
        assert(false && "commit_deletions: index out of range");
        return errc::not_found;
    }
    if (todo.empty()) return {};
    std::vector<std::int64_t> ids;
    ids.reserve(todo.size());
    for (auto i : todo) ids.push_back(ids_[i]);

    const auto& st = *session_->st;
    pg_params p;
    p.number_array(ids);
    const bool archive = st.opts.commitmode == commit_mode::archive;
    if (archive) {
        std::vector<std::string> status(status_tags().begin(), status_tags().end());
        p.text_array(status);
    }
    std::lock_guard lock(session_->mu);
    auto r = session_->exec(archive ? st.sql.archive_ids : st.sql.delete_ids, p);
    return r ? boost::system::error_code() : r.error();
}

boost::system::error_code pg_maildrop::record_retrieval(std::span<const std::size_t> indices,
                                                        std::chrono::system_clock::time_point now) {
    std::vector<std::int64_t> ids;
    ids.reserve(indices.size());
    for (auto i : indices) {
        if (i >= ids_.size()) {
            assert(false && "record_retrieval: index out of range");
            return errc::not_found;
        }
        ids.push_back(ids_[i]);
    }
    if (ids.empty()) return {};
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    std::lock_guard lock(session_->mu);
    auto r = session_->exec(session_->st->sql.record_retrieval,
                            pg_params().number_array(ids).number(us));
    return r ? boost::system::error_code() : r.error();
}

}  // namespace izypop3::store::detail
