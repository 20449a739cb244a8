// client_pool: I/O threads running one coroutine per client session. The coroutine maps each
// action of a core::client_session to one operation of a client_connection (send → write,
// need_input → read, start_tls → handshake) and hands every other action to the session's
// handler.

#include "client_connection.hpp"

#include <izypop3/core/client_redaction.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace izypop3::transport {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t max_logged_line = 1000;

// User plus system CPU of the calling thread, in microseconds.
std::int64_t thread_cpu_us() {
    rusage ru{};
    if (::getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

// Runs `ctx` and adds the CPU the thread spent doing it to `total`.
void run_counting_cpu(asio::io_context& ctx, std::atomic<std::int64_t>& total) {
    const std::int64_t before = thread_cpu_us();
    ctx.run();
    total += thread_cpu_us() - before;
}

session_outcome::kind outcome_of(const error_code& ec) {
    if (ec == client_errc::interrupted) return session_outcome::kind::interrupted;
    if (ec == client_errc::timed_out) return session_outcome::kind::timed_out;
    return session_outcome::kind::connection_lost;
}

}  // namespace

struct client_pool::impl : std::enable_shared_from_this<client_pool::impl> {
    client_pool_options options;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::atomic<std::size_t> next_context{0};
    std::atomic<std::size_t> active{0};
    std::atomic<bool> stopping{false};
    std::atomic<int> signal_number{0};
    std::atomic<std::int64_t> cpu_us{0};  // of the last run()
    std::optional<asio::signal_set> signals;
    // Keep every context's run() going until the last session ends: a thread whose context
    // is momentarily idle must not return, or a session spawned onto it later (a load run
    // starts a new session when one finishes) would never run, and run() would never end.
    using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;
    std::vector<work_guard> guards;  // under mutex
    std::mutex mutex;
    std::exception_ptr failure;  // first exception thrown by a handler

    struct run_state;
    std::set<std::shared_ptr<run_state>> live;  // under mutex

    asio::awaitable<void> drive(std::shared_ptr<run_state> run);
    void finished(const std::shared_ptr<run_state>& run, std::exception_ptr e);
    void interrupt_all();
};

struct client_pool::impl::run_state {
    run_state(asio::any_io_executor ex, client_stream_options so, core::client_config cfg,
              std::shared_ptr<session_handler> h)
        : executor(ex), conn(ex, std::move(so)), config(std::move(cfg)), handler(std::move(h)) {}

    asio::any_io_executor executor;
    detail::client_connection conn;
    core::client_config config;
    std::shared_ptr<session_handler> handler;
    session_outcome outcome;
    bool finished_reported = false;
    bool logged_in = false;
    std::string partial_line;  // login-phase server bytes not yet ending in LF

    void report_sent(std::string_view bytes) {
        while (!bytes.empty()) {
            auto lf = bytes.find('\n');
            std::string_view l = bytes.substr(0, lf);
            if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
            handler->on_wire_line('>', logged_in ? std::string(l)
                                                 : core::redact_client_login_line(l));
            if (lf == std::string_view::npos) break;
            bytes.remove_prefix(lf + 1);
        }
    }

    void report_received(std::string_view bytes) {
        if (logged_in) return;
        while (!bytes.empty()) {
            auto lf = bytes.find('\n');
            if (partial_line.size() < max_logged_line)
                partial_line.append(
                    bytes.substr(0, std::min(lf, max_logged_line - partial_line.size())));
            if (lf == std::string_view::npos) break;
            if (!partial_line.empty() && partial_line.back() == '\r') partial_line.pop_back();
            handler->on_wire_line('<', partial_line);
            partial_line.clear();
            bytes.remove_prefix(lf + 1);
        }
    }
};

asio::awaitable<void> client_pool::impl::drive(std::shared_ptr<run_state> run) {
    auto& r = *run;
    auto end = [&](session_outcome::kind how, error_code ec, std::string text) {
        r.outcome.how = how;
        r.outcome.ec = ec;
        r.outcome.text = std::move(text);
    };
    if (stopping) {
        end(session_outcome::kind::interrupted, make_error_code(client_errc::interrupted),
            "interrupted");
        co_return;
    }
    if (auto ec = co_await r.conn.connect()) {
        end(ec == client_errc::interrupted ? session_outcome::kind::interrupted
                                           : session_outcome::kind::connect_failed,
            ec, r.conn.error_text());
        co_return;
    }
    r.handler->on_connected(r.conn.info());

    core::client_session session(r.config);
    // Not zeroed: a load run starts hundreds of sessions a second, and clearing 64 KiB for
    // each cost more than the rest of its setup.
    const std::size_t buffer_size = std::max<std::size_t>(512, options.read_buffer);
    const std::unique_ptr<char[]> buffer(new char[buffer_size]);
    bool saw_eof = false;
    for (;;) {
        auto action = session.next();
        if (auto* s = std::get_if<core::client_action::send>(&action)) {
            r.report_sent(s->bytes);
            if (auto ec =
                    co_await r.conn.write_all(asio::buffer(s->bytes.data(), s->bytes.size()))) {
                end(outcome_of(ec), ec, r.conn.error_text());
                co_return;
            }
        } else if (std::holds_alternative<core::client_action::need_input>(action)) {
            auto [ec, n] = co_await r.conn.read_some(asio::buffer(buffer.get(), buffer_size));
            if (!ec) {
                const std::string_view got(buffer.get(), n);
                r.report_received(got);
                session.feed(got);
            } else if (ec == client_errc::connection_closed) {
                // The session decides whether the close was expected (after QUIT) or not.
                saw_eof = true;
                session.feed_eof();
            } else {
                end(outcome_of(ec), ec, r.conn.error_text());
                co_return;
            }
        } else if (std::holds_alternative<core::client_action::start_tls>(action)) {
            if (auto ec = co_await r.conn.start_tls()) {
                end(ec == client_errc::interrupted ? session_outcome::kind::interrupted
                                                   : session_outcome::kind::tls_failed,
                    ec, r.conn.error_text());
                co_return;
            }
            session.complete_tls(true);
            r.handler->on_tls_started(r.conn.info());
        } else if (auto* f = std::get_if<core::client_action::failed>(&action)) {
            r.handler->on_event(session, action);
            end(saw_eof ? session_outcome::kind::connection_lost
                        : session_outcome::kind::session_failed,
                f->ec, std::string(f->detail));
            co_return;
        } else if (std::holds_alternative<core::client_action::closed>(action)) {
            r.handler->on_event(session, action);
            end(session_outcome::kind::closed, {}, "the server closed the session after QUIT");
            co_return;
        } else {
            if (std::holds_alternative<core::client_action::logged_in>(action)) r.logged_in = true;
            r.handler->on_event(session, action);
        }
    }
}

void client_pool::impl::finished(const std::shared_ptr<run_state>& run, std::exception_ptr e) {
    run->conn.close();
    if (!run->finished_reported) {
        run->finished_reported = true;
        try {
            run->handler->on_finished(run->outcome);
        } catch (...) {
            if (!e) e = std::current_exception();
        }
    }
    bool last = false;
    {
        std::lock_guard lock(mutex);
        if (e && !failure) failure = e;
        live.erase(run);
        last = --active == 0;
    }
    if (last) {
        // The guards and the pending signal wait are the only work left; without them
        // every thread's run() returns.
        asio::post(*contexts.front(), [self = shared_from_this()] {
            if (self->active != 0) return;
            {
                std::lock_guard lock(self->mutex);
                self->guards.clear();
            }
            if (self->signals) {
                error_code ignored;
                self->signals->cancel(ignored);
            }
        });
    }
}

void client_pool::impl::interrupt_all() {
    std::lock_guard lock(mutex);
    for (const auto& run : live) {
        asio::post(run->executor, [run] { run->conn.interrupt(); });
    }
}

client_pool::client_pool(client_pool_options options) : impl_(std::make_shared<impl>()) {
    impl_->options = options;
    const unsigned n = std::max(1u, options.threads);
    for (unsigned i = 0; i < n; ++i)
        impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
}

client_pool::~client_pool() {
    stop();
    // Coroutines still suspended are destroyed with their io_context; their handlers have
    // not been told, since run() is the only place that reports.
    std::lock_guard lock(impl_->mutex);
    impl_->live.clear();
}

void client_pool::spawn(client_stream_options stream, core::client_config session,
                        std::shared_ptr<session_handler> handler) {
    auto& d = *impl_;
    auto& ctx = *d.contexts[d.next_context++ % d.contexts.size()];
    auto run = std::make_shared<impl::run_state>(ctx.get_executor(), std::move(stream),
                                                 std::move(session), std::move(handler));
    {
        std::lock_guard lock(d.mutex);
        d.live.insert(run);
        ++d.active;
    }
    asio::co_spawn(ctx, d.drive(run),
                   [self = impl_, run](std::exception_ptr e) { self->finished(run, e); });
}

void client_pool::run() {
    auto& d = *impl_;
    if (d.options.handle_signals && d.active > 0) {
        d.signals.emplace(*d.contexts.front(), SIGINT, SIGTERM);
        d.signals->async_wait([self = impl_](error_code ec, int sig) {
            if (ec) return;
            self->signal_number = sig;
            self->stopping = true;
            self->interrupt_all();
        });
    }
    {
        std::lock_guard lock(d.mutex);
        if (d.active > 0)
            for (auto& c : d.contexts) d.guards.push_back(asio::make_work_guard(*c));
    }
    d.cpu_us = 0;
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < d.contexts.size(); ++i)
        threads.emplace_back([ctx = d.contexts[i].get(), &d] { run_counting_cpu(*ctx, d.cpu_us); });
    run_counting_cpu(*d.contexts.front(), d.cpu_us);
    for (auto& t : threads) t.join();
    d.signals.reset();
    {
        std::lock_guard lock(d.mutex);
        d.guards.clear();
    }
    for (auto& c : d.contexts) c->restart();
    std::exception_ptr e;
    {
        std::lock_guard lock(d.mutex);
        std::swap(e, d.failure);
    }
    if (e) std::rethrow_exception(e);
}

void client_pool::stop() noexcept {
    impl_->stopping = true;
    impl_->interrupt_all();
}

bool client_pool::stopped() const noexcept {
    return impl_->stopping;
}
int client_pool::stop_signal() const noexcept {
    return impl_->signal_number;
}

std::chrono::duration<double> client_pool::cpu_used() const noexcept {
    return std::chrono::duration<double>(static_cast<double>(impl_->cpu_us.load()) / 1e6);
}

}  // namespace izypop3::transport
