#pragma once
// The postgres store's connections. Store calls (query, add, mark, remove, reads outside a
// POP3 session) borrow one for the length of the call from a pool of at most `poolsize`;
// a caller that finds them all busy waits. A POP3 session takes a connection of its own for
// its whole life (its maildrop lock lives on it), outside that bound, and gives it back
// when it ends. Idle connections are kept up to `poolsize`.
//
// Blocking by design: libpq calls block the calling thread, and the server calls store
// methods on its blocking pool, never on an I/O thread.

#include "postgres_connection.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace izypop3::store::detail {

class pg_pool {
public:
    /// How long a store call waits for a free connection before failing with io_error.
    static constexpr std::chrono::seconds acquire_timeout{60};

    pg_pool(pg_connect_options opts, std::size_t poolsize);
    ~pg_pool();
    pg_pool(const pg_pool&) = delete;
    pg_pool& operator=(const pg_pool&) = delete;

    /// A borrowed connection; goes back to the pool (or is closed when unfit) on destruction.
    class lease {
    public:
        lease(lease&& other) noexcept;
        lease& operator=(lease&&) = delete;
        ~lease();
        pg_connection& operator*() const noexcept { return *conn_; }
        pg_connection* operator->() const noexcept { return conn_.get(); }
        /// It was idle in the pool before: a failure may just mean the server restarted
        /// since it was last used.
        bool reused() const noexcept { return reused_; }

    private:
        friend class pg_pool;
        lease(pg_pool& pool, std::unique_ptr<pg_connection> c, bool reused)
            : pool_(&pool), conn_(std::move(c)), reused_(reused) {}
        pg_pool* pool_;
        std::unique_ptr<pg_connection> conn_;
        bool reused_;
    };

    /// Borrows a connection within the bound: an idle one, or a new one when fewer than
    /// `poolsize` are borrowed. Errors: io_error / bad_config (cannot connect; see
    /// last_error()), io_error after waiting acquire_timeout.
    boost::system::result<lease> acquire();

    /// Takes a connection for a POP3 session, outside the bound: an idle one if any, else a
    /// new one. `reused` tells which. Give it back with give_back().
    boost::system::result<std::unique_ptr<pg_connection>> take(bool& reused);
    /// Keeps a healthy, idle connection for reuse (while fewer than `poolsize` are idle);
    /// closes any other.
    void give_back(std::unique_ptr<pg_connection> c) noexcept;
    /// Closes every idle connection: after one turned out dead, the others (from before a
    /// server restart) most likely are too.
    void drop_idle() noexcept;

    /// Runs `f(pg_connection&)`, which returns a boost::system::result, on a borrowed
    /// connection. When the connection was reused from the pool and turns out to be dead,
    /// the idle connections are dropped and `f` runs once more on a new connection: what a
    /// statement on a dead connection did cannot be observed, so `f` must be safe to repeat
    /// (every caller is: inserts dedupe, updates are idempotent, deletes report not_found).
    template <class F>
    auto run(F&& f) -> std::invoke_result_t<F&, pg_connection&> {
        for (int attempt = 0;; ++attempt) {
            auto l = acquire();
            if (!l) return l.error();
            auto r = f(**l);
            if (!r) {
                // Empty when `f` failed on an answer (not_found ...) rather than a statement.
                if (!(*l)->error_text().empty()) note_error((*l)->error_text());
                if (attempt == 0 && l->reused() && (*l)->lost()) {
                    drop_idle();
                    continue;
                }
            }
            return r;
        }
    }

    /// Records the text of a failure for last_error().
    void note_error(std::string text);
    /// The most recent failure, one line (never the password).
    std::string last_error() const;

private:
    boost::system::result<std::unique_ptr<pg_connection>> connect();
    void release(std::unique_ptr<pg_connection> c) noexcept;

    const pg_connect_options opts_;
    const std::size_t poolsize_;
    mutable std::mutex mu_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<pg_connection>> idle_;
    std::size_t borrowed_ = 0;
    std::string last_error_;
};

}  // namespace izypop3::store::detail
