// The POP3 server on Boost.Asio: one io_context per I/O thread, accepted sockets spread
// over them round-robin, so a connection lives on one thread and needs no strand. Each
// connection is a coroutine that maps every action of its core::server_session to one
// operation, with a watchdog bounding every wait. Replies are gathered and written when the
// session waits for its client (or past flush_at), a message together with its status line
// and terminator. A maildrop served locally (files, memory) is opened and read on the I/O
// thread, where a hand-off to another thread would cost more than the read; what may wait
// on another machine or process (a database, credential checks, UPDATE's fsyncs) runs on
// the blocking pool, once per operation.

#include "peer_table.hpp"
#include "reply_buffers.hpp"
#include "server_stream.hpp"
#include "token_cache.hpp"
#include "token_command.hpp"
#include "token_introspection.hpp"
#include "watchdog.hpp"
#include "work_gate.hpp"

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/proxy_header.hpp>
#include <izypop3/transport/server.hpp>
#include <izypop3/transport/server_metrics.hpp>
#include <izypop3/transport/tls_identity.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace izypop3::transport {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// Commands are short (a pipelined batch of them too); longer lines arrive in several reads.
// It is the only buffer an idle plain connection holds.
constexpr std::size_t read_buffer_size = 512;
constexpr std::size_t body_chunk_size = 64 * 1024;
// Replies gathered up to this much go out in one write.
constexpr std::size_t flush_at = 256 * 1024;
// From this size a message that is already its wire form goes out with sendfile; below it,
// reading it into the reply costs fewer system calls.
constexpr std::uint64_t sendfile_from = 128 * 1024;

bool is_loopback(const tcp::endpoint& ep) {
    const auto a = ep.address();
    if (a.is_loopback()) return true;
    return a.is_v6() && a.to_v6().is_v4_mapped() &&
           asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

std::string endpoint_text(const tcp::endpoint& ep) {
    auto a = ep.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    return a.to_string();
}

}  // namespace

struct connection;

struct server::impl {
    server_options opt;
    server_hooks hooks;
    logger log;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::unique_ptr<asio::thread_pool> blocking;
    std::optional<asio::ssl::context> tls;
    tls_identity identity;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // [plain, tls]
    std::uint16_t bound_port = 0;
    std::uint16_t bound_tls_port = 0;
    std::atomic<std::size_t> open_connections{0};
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<std::uint64_t> next_ticket{1};
    std::atomic<bool> stopping{false};
    std::optional<detail::peer_table> peers;  // made in start(), sized by the options
    std::optional<detail::work_gate> auth_work;
    std::mutex live_mutex;
    std::set<std::shared_ptr<connection>> live;
    std::optional<asio::signal_set> signals;
    server_metrics metrics;
    // Bearer tokens: the introspection endpoint's TLS client settings, and the cache.
    std::optional<asio::ssl::context> introspection_tls;
    detail::introspection_endpoint introspection;
    std::optional<detail::token_cache> tokens;

    error_code listen(std::uint16_t port, bool implicit_tls, std::string& error_text);
    error_code prepare_token_validation(std::string& error_text);
    awaitable<void> accept_loop(tcp::acceptor& acceptor, bool implicit_tls);
    awaitable<void> refuse(tcp::socket sock, std::string line);
    bool trusted_proxy(const tcp::endpoint& ep) const;
    void stop_everything();
};

bool server::impl::trusted_proxy(const tcp::endpoint& ep) const {
    if (opt.trusted_proxies.empty()) return false;
    auto a = ep.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    std::array<std::uint8_t, 16> bytes{};
    if (a.is_v6()) {
        bytes = a.to_v6().to_bytes();
    } else {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
    }
    for (const auto& n : opt.trusted_proxies)
        if (n.contains(a.is_v6(), bytes)) return true;
    return false;
}

namespace {

asio::ip::address address_of(const core::proxy_endpoint& e) {
    if (e.v6) return asio::ip::address_v6(e.address);
    return asio::ip::address_v4(
        asio::ip::address_v4::bytes_type{e.address[0], e.address[1], e.address[2], e.address[3]});
}

// Overwrites a secret before its memory is released.
void wipe(std::string& s) noexcept {
    std::fill(s.begin(), s.end(), '\0');
    s.clear();
}

}  // namespace

// One client connection. Owned by its coroutines through shared_ptr.
struct connection : std::enable_shared_from_this<connection> {
    connection(server::impl& s, tcp::socket sock, bool implicit_tls, const tcp::endpoint& remote,
               bool via_proxy)
        : srv(s),
          socket(std::move(sock)),
          stream(socket),
          dog(socket.get_executor()),
          implicit(implicit_tls),
          peer(endpoint_text(remote)),
          group(detail::address_group(remote.address())),
          // A proxied connection is not loopback, even when the proxy runs on this machine.
          peer_is_loopback(!via_proxy && is_loopback(remote)),
          proxied(via_proxy),
          id(s.next_id++),
          log(s.log.with_prefix(fmt::format("[S{} {}]", id, peer))) {}

    server::impl& srv;
    tcp::socket socket;
    detail::server_stream stream;
    detail::watchdog dog;
    bool implicit;
    std::string peer;   // the client's address, for logs and hooks
    std::string group;  // the client's address group, for per-address limits
    bool peer_is_loopback;
    bool proxied;          // the peer is a trusted proxy: the client is named by its header
    bool counted = false;  // holds one of the group's connection slots
    std::uint64_t id;
    logger log;
    bool timed_out = false;
    bool shutdown_requested = false;
    bool finished = false;
    bool in_session = false;  // counted in the sessions_open gauge
    // The deadline to log in, from the greeting; max() once logged in.
    clock_type::time_point login_deadline = clock_type::time_point::max();
    // The timer of a wait that is not on the socket (failure delay, a slot of the per-address
    // bound on credential work), so a shutdown can cut it short.
    std::shared_ptr<asio::steady_timer> pause;
    std::unique_ptr<core::maildrop> drop;
    bool drop_local = false;  // drop->served_locally(): its calls run on this thread
    std::unique_ptr<core::message_source> message;
    // The message was opened on this thread (maildrop->opens_at_once()): its reads never
    // wait, and dropping it costs nothing.
    bool message_at_once = false;
    // Replies not yet written; held only while the connection has something to send.
    std::unique_ptr<std::string> out;
    std::array<char, read_buffer_size> rbuf;

    // Before login every wait also ends at the login deadline.
    void arm(std::chrono::seconds d) {
        const auto now = clock_type::now();
        dog.arm_until(login_deadline - now < d ? login_deadline : now + d);
    }
    void disarm() { dog.disarm(); }

    // Cancels the socket's pending operation when a deadline passes.
    void watch() {
        dog.start([this] {
            timed_out = true;
            error_code ignored;
            socket.cancel(ignored);
        });
    }

    // The replies to send: they leave together at the next wait, or past flush_at.
    std::string& reply() {
        if (!out) out = detail::reply_buffers::take();
        return *out;
    }

    // Sends the gathered replies (`more`: more of the same reply follows, such as a file).
    awaitable<error_code> flush(bool more = false) {
        if (!out) co_return error_code{};
        error_code ec;
        if (!out->empty()) {
            ec = co_await stream.write(asio::buffer(*out), more);
            if (!ec) srv.metrics.octets_sent(out->size());
        }
        disarm();
        detail::reply_buffers::give_back(std::move(out));
        co_return ec;
    }

    awaitable<bool> handshake() {
        if (co_await flush()) co_return false;
        arm(srv.opt.handshake_timeout);
        auto ec = co_await stream.start_tls(srv.tls->native_handle());
        disarm();
        const SSL* ssl = stream.tls_handle();
        srv.metrics.tls_handshake(!ec, !ec && ssl ? SSL_get_version(ssl) : "");
        if (ec) log.debug("TLS handshake failed: {}", ec.message());
        co_return !ec;
    }

    // Runs `f` on the blocking pool and resumes the awaiting coroutine on its own executor
    // with the result. Callers pass lambdas that capture by reference only: the awaiting
    // frame outlives the call, and g++ 12 relocates lambda temporaries inside co_await
    // expressions bitwise, which breaks a captured std::string (its buffer pointer keeps
    // pointing at the old place). Not a coroutine itself for the same reason.
    template <class F>
    auto offload(F f) {
        using R = std::invoke_result_t<F&>;
        return asio::async_initiate<const asio::use_awaitable_t<>, void(R)>(
            [pool = srv.blocking->get_executor()](auto handler, F fn) {
                auto ex = asio::get_associated_executor(handler);
                asio::post(pool, [handler = std::move(handler), fn = std::move(fn), ex]() mutable {
                    R r = fn();
                    asio::post(ex, [handler = std::move(handler), r = std::move(r)]() mutable {
                        std::move(handler)(std::move(r));
                    });
                });
            },
            asio::use_awaitable, std::move(f));
    }

    // Closing a maildrop unlocks it: a local store closes a descriptor, a database may
    // need a round trip, which must not hold up the I/O thread.
    asio::awaitable<void> release(std::unique_ptr<core::maildrop>& md) {
        message.reset();
        if (drop_local) {
            md.reset();
            co_return;
        }
        auto* gone = md.release();
        co_await offload([gone] {
            delete gone;
            return true;
        });
    }

    // A remote message not read to its end may owe the database pieces still on their way
    // (the store drains them): dropped on a worker thread.
    asio::awaitable<void> drop_message() {
        if (drop_local || message_at_once || !message) {
            message.reset();
            co_return;
        }
        auto* gone = message.release();
        co_await offload([gone] {
            delete gone;
            return true;
        });
    }

    core::server_config session_config() {
        core::server_config cfg;
        cfg.host_name = srv.opt.host_name;
        cfg.tls_active = implicit;
        cfg.tls_available = srv.tls.has_value() && srv.opt.stls && !implicit;
        cfg.cleartext_without_tls =
            srv.opt.cleartext == cleartext_policy::always ||
            (srv.opt.cleartext == cleartext_policy::loopback && peer_is_loopback);
        cfg.auth_failure_delay_ms = static_cast<std::uint32_t>(srv.opt.auth_failure_delay.count());
        cfg.secret_forms = srv.hooks.secret_forms;
        cfg.verify_passwords = static_cast<bool>(srv.hooks.verify_password);
        cfg.validate_tokens = srv.opt.oauth2.configured();
        cfg.mechanisms = srv.hooks.mechanisms;
        cfg.edit_capabilities = srv.hooks.edit_capabilities;
        cfg.on_command = [this, hook = srv.hooks.on_command](const core::command_event& e) {
            srv.metrics.command(e);
            if (hook) hook(e);
        };
        cfg.apop = srv.opt.apop;
        cfg.policy = srv.hooks.advertised_policy;
        cfg.policy_per_user = srv.hooks.policy_per_user;
        if (log.transcript_server()) {
            cfg.transcript = [this](char dir, std::string_view line) {
                log.server_transcript(dir, line);
            };
        }
        return cfg;
    }

    awaitable<void> run();
    awaitable<bool> read_proxy_header();
    awaitable<bool> admit();
    awaitable<bool> enter_auth_work();
    awaitable<void> failure_delay(std::uint32_t base_ms);
    awaitable<bool> verify_password(core::server_session& s,
                                    const core::server_action::verify_password& v);
    awaitable<bool> derive_secret(core::server_session& s,
                                  const core::server_action::derive_secret& d);
    awaitable<bool> validate_token(core::server_session& s,
                                   const core::server_action::validate_token& v);
    awaitable<std::pair<std::optional<std::string>, bool>> token_owner(std::string& token);
    awaitable<bool> stream_message(core::server_session& s, std::size_t index,
                                   std::optional<std::uint64_t> body_lines);
    awaitable<bool> send_file(std::size_t index, const core::file_region& region);
    bool read_wire_form(const core::file_region& region);
    awaitable<boost::system::result<std::size_t>> read_chunk(std::span<char> buffer);
    awaitable<void> open_message(core::server_session& s, std::size_t index);
    awaitable<void> open_maildrop(core::server_session& s, std::string_view user);
    void finish(core::server_session& s, core::close_reason why);
};

// From a trusted proxy the connection starts with a PROXY header naming the client; read
// exactly its octets (what follows stays in the socket for the session or TLS). A proxy
// that sends none, or a malformed one, gets the connection closed: nothing is guessed.
awaitable<bool> connection::read_proxy_header() {
    core::proxy_header_reader reader;
    std::array<char, 512> buf;
    arm(srv.opt.handshake_timeout);
    while (reader.bytes_needed() > 0) {
        const std::size_t want = std::min(reader.bytes_needed(), buf.size());
        auto [ec, n] =
            co_await asio::async_read(socket, asio::buffer(buf.data(), want), as_tuple_awaitable);
        if (ec) {
            disarm();
            log.warn("closing a connection from trusted proxy {}: no complete PROXY header ({})",
                     peer, timed_out ? "timed out" : ec.message());
            co_return false;
        }
        reader.feed(std::string_view(buf.data(), n));
    }
    disarm();
    if (reader.failed()) {
        log.warn("closing a connection from trusted proxy {}: {}", peer, reader.error());
        co_return false;
    }
    const auto& h = reader.header();
    if (!h.has_addresses) {
        // LOCAL (a health check) or UNKNOWN: the proxy speaks for itself.
        log = srv.log.with_prefix(fmt::format("[S{} {} proxy]", id, peer));
        co_return true;
    }
    const auto client = address_of(h.source);
    const std::string proxy = peer;
    peer = endpoint_text(tcp::endpoint(client, h.source.port));
    group = detail::address_group(client);
    log = srv.log.with_prefix(fmt::format("[S{} {} via {}]", id, peer, proxy));
    co_return true;
}

// The per-address connection cap, counted for the client (behind a proxy: the real one).
// The refusal goes out in plain text even on the TLS port: it costs us no handshake.
awaitable<bool> connection::admit() {
    if (srv.peers->acquire(group, srv.opt.max_connections_per_ip)) {
        counted = true;
        co_return true;
    }
    log.warn("refusing {}: too many connections from this address", peer);
    srv.metrics.connection_refused(refusal::per_address);
    reply() += "-ERR [IN-USE] Too many connections from your address\r\n";
    co_await flush();
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    co_return false;
}

// Takes a slot of the per-address bound on expensive credential work, waiting in line
// behind the same address's other checks. False when the login deadline passes (or the
// server stops) first; on true the caller ends with auth_work->leave(group).
awaitable<bool> connection::enter_auth_work() {
    const std::uint64_t ticket = srv.next_ticket++;
    auto wake = std::make_shared<asio::steady_timer>(socket.get_executor());
    wake->expires_at(login_deadline);
    const bool now = srv.auth_work->enter(
        group, ticket, [wake] { asio::post(wake->get_executor(), [wake] { wake->cancel(); }); });
    if (now) co_return true;
    log.debug("waiting for a credential check slot (at most {} at once per address)",
              srv.opt.max_auth_work_per_ip);
    pause = wake;
    co_await wake->async_wait(as_tuple_awaitable);
    pause.reset();
    if (srv.auth_work->withdraw(group, ticket)) {
        log.info("closing: {} before a credential check slot was free",
                 shutdown_requested ? "server shutdown" : "login deadline passed");
        co_return false;
    }
    co_return true;  // handed a slot, even if the deadline passed at the same moment
}

// The failed-login delay: the session's base, doubled per recent failure of the client's
// address group (parallel connections included), to 15 s.
awaitable<void> connection::failure_delay(std::uint32_t base_ms) {
    const unsigned failures = srv.peers->record_failure(group);
    const unsigned ms = detail::penalty_delay_ms(base_ms, failures);
    log.info("failed login; failure {} from this address lately, reply delayed {} ms", failures,
             ms);
    srv.metrics.failure_delay_applied();
    pause = std::make_shared<asio::steady_timer>(socket.get_executor());
    pause->expires_after(std::chrono::milliseconds(ms));
    co_await pause->async_wait(as_tuple_awaitable);
    pause.reset();
}

awaitable<bool> connection::verify_password(core::server_session& s,
                                            const core::server_action::verify_password& v) {
    (void)co_await flush();
    if (!co_await enter_auth_work()) co_return false;
    auto hook = srv.hooks.verify_password;
    std::string user(v.user), pass(v.password);
    auto outcome = co_await offload([&] { return hook(user, pass); });
    srv.auth_work->leave(group);
    wipe(pass);
    s.complete_verify(outcome);
    co_return true;
}

// PBKDF2 for SCRAM: on the blocking pool, within the per-address bound, never on an I/O
// thread (its cost is the point of it). False when no slot came before the login deadline.
awaitable<bool> connection::derive_secret(core::server_session& s,
                                          const core::server_action::derive_secret& d) {
    (void)co_await flush();
    if (!co_await enter_auth_work()) co_return false;
    std::string hash(d.hash_name), pass(d.password), salt(d.salt);
    const std::uint32_t iterations = d.iterations;
    log.debug("deriving SCRAM keys ({} iterations) on a worker thread", iterations);
    auto keys = co_await offload([&]() -> std::optional<core::sasl::scram_secret> {
        try {
            return core::sasl::derive_scram_secret(hash, pass, salt, iterations);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    });
    srv.auth_work->leave(group);
    wipe(pass);
    // Only a credential source handing out an impossible iteration count gets here: end
    // the session as an internal error (logged by the connection's completion handler).
    if (!keys)
        throw std::runtime_error(fmt::format(
            "SCRAM key derivation refused its parameters ({} iterations); check the credential "
            "source",
            iterations));
    s.complete_derive(*keys);
    co_return true;
}

namespace {

std::int64_t epoch_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// Whose token: from the cache, the introspection endpoint (asynchronous, on this thread) or
// oauth2.command (a child process, on the blocking pool). Second: the validator could not
// answer.
awaitable<std::pair<std::optional<std::string>, bool>> connection::token_owner(std::string& token) {
    using answer = std::pair<std::optional<std::string>, bool>;
    const auto& o = srv.opt.oauth2;
    const std::int64_t now = epoch_seconds();
    if (srv.tokens) {
        if (auto user = srv.tokens->find(token, now)) {
            log.debug("bearer token of {}: remembered from an earlier introspection",
                      sanitize_for_log(*user, 80));
            co_return answer{std::move(user), false};
        }
    }
    if (!o.introspect_url.empty()) {
        auto r = co_await detail::introspect(*srv.introspection_tls, srv.introspection, token, now);
        if (!r.answered) {
            log.error("token introspection at {} failed: {}", o.introspect_url, r.problem);
            co_return answer{std::nullopt, true};
        }
        if (!r.verdict.problem.empty()) {
            log.error("token introspection at {}: {}", o.introspect_url, r.verdict.problem);
            co_return answer{std::nullopt, true};
        }
        if (!r.verdict.active) {
            log.info("bearer token refused: the introspection endpoint says it is not active");
            co_return answer{std::nullopt, false};
        }
        if (r.verdict.exp) srv.tokens->remember(token, r.verdict.user, *r.verdict.exp, now);
        co_return answer{std::move(r.verdict.user), false};
    }
    const std::chrono::milliseconds timeout = o.timeout;
    auto c = co_await offload([&] { return detail::run_token_command(o.command, token, timeout); });
    using kind = detail::command_verdict::kind;
    if (c.outcome == kind::temporary) log.error("{}", c.detail);
    if (c.outcome == kind::invalid) log.info("bearer token refused: {}", c.detail);
    if (c.outcome != kind::valid) co_return answer{std::nullopt, c.outcome == kind::temporary};
    co_return answer{std::move(c.user), false};
}

// Bounded per client address like a password check: a validation costs the endpoint or a
// process. False when no slot came before the login deadline.
awaitable<bool> connection::validate_token(core::server_session& s,
                                           const core::server_action::validate_token& v) {
    (void)co_await flush();
    if (!co_await enter_auth_work()) co_return false;
    std::string token(v.token);
    auto [owner, temporary] = co_await token_owner(token);
    srv.auth_work->leave(group);
    wipe(token);
    s.complete_validate_token(std::move(owner), temporary);
    co_return true;
}

// One chunk of the message: in place from a local store or from what a remote one holds
// already; otherwise on the blocking pool (the caller's buffer is then a heap one).
awaitable<boost::system::result<std::size_t>> connection::read_chunk(std::span<char> buffer) {
    auto* src = message.get();
    if (drop_local || src->reads_at_once()) co_return src->read(buffer);
    if (auto ec = co_await flush()) co_return ec;
    co_return co_await offload([src, buffer] { return src->read(buffer); });
}

// A whole message in wire form, small: read straight into the reply after its status line,
// with no copy through the encoder.
bool connection::read_wire_form(const core::file_region& region) {
    auto& r = reply();
    const std::size_t at = r.size();
    r.resize(at + region.length + 1);  // one more: the read sees the end
    std::size_t got = 0;
    for (;;) {
        auto n = message->read(std::span<char>(r.data() + at + got, r.size() - at - got));
        if (!n) {
            log.warn("reading a message failed while sending it: {}", n.error().message());
            r.resize(at);
            return false;
        }
        if (*n == 0) break;
        got += *n;
    }
    r.resize(at + got);
    r += ".\r\n";
    return true;
}

// A big message in wire form: the status line, then the file as it is (sendfile), then
// the terminator. The file must not have changed while it went out.
awaitable<bool> connection::send_file(std::size_t index, const core::file_region& region) {
    if (co_await flush(true)) co_return false;
    arm(srv.opt.send_timeout);
    auto ec = co_await stream.send_file(region.fd, region.offset, region.length);
    disarm();
    if (ec) co_return false;
    srv.metrics.octets_sent(region.length);
    if (auto changed = message->check_sent_file()) {
        log.warn("a message file changed while it was sent: {}", changed.message());
        co_return false;
    }
    reply() += ".\r\n";
    log.debug("message {} sent from its file with sendfile ({} octets)", index + 1, region.length);
    co_return true;
}

awaitable<bool> connection::stream_message(core::server_session& s, std::size_t index,
                                           std::optional<std::uint64_t> body_lines) {
    std::optional<core::file_region> region;
    if (!body_lines) region = message->wire_file();
    if (region) {
        const bool big = region->length >= sendfile_from && stream.can_send_file();
        if (big ? !co_await send_file(index, *region) : !read_wire_form(*region)) co_return false;
        message.reset();
        s.complete_message(true, region->length);
        co_return true;
    }
    core::dot_stuffer encoder(body_lines);
    // A local read and its encoding never wait, so the chunk can be this thread's; a read
    // handed to the pool needs a buffer of the connection's own.
    thread_local std::vector<char> scratch(body_chunk_size);
    std::vector<char> own;
    const bool inline_reads = drop_local || message_at_once;
    if (!inline_reads) own.resize(body_chunk_size);
    std::span<char> chunk = inline_reads ? std::span<char>(scratch) : std::span<char>(own);
    std::uint64_t octets = 0;
    for (;;) {
        auto r = co_await read_chunk(chunk);
        if (!r) {
            log.warn("reading a message failed while sending it: {}", r.error().message());
            co_return false;
        }
        if (*r == 0) break;
        octets += *r;
        encoder.encode(std::string_view(chunk.data(), *r), reply());
        if (out->size() >= flush_at && co_await flush()) co_return false;
        if (encoder.saturated()) break;
    }
    encoder.finish(reply());
    co_await drop_message();
    s.complete_message(true, octets);
    co_return true;
}

awaitable<void> connection::open_message(core::server_session& s, std::size_t index) {
    auto* md = drop.get();
    boost::system::result<std::unique_ptr<core::message_source>> r =
        make_error_code(boost::system::errc::io_error);
    const auto began = clock_type::now();
    message_at_once = drop_local || md->opens_at_once(index);
    if (message_at_once) {
        r = md->open(index);
    } else {
        if (auto ec = co_await flush()) {
            s.complete_open_message(core::message_open_failure::temporary);
            co_return;
        }
        r = co_await offload([md, index] { return md->open(index); });
    }
    srv.metrics.store_call(store_operation::open_message, r.has_value(), clock_type::now() - began);
    if (r) {
        message = std::move(*r);
        s.complete_open_message(true);
        co_return;
    }
    log.warn("message {} could not be opened: {}", index + 1, r.error().message());
    s.complete_open_message(r.error() == boost::system::errc::no_such_file_or_directory
                                ? core::message_open_failure::gone
                                : core::message_open_failure::temporary);
}

awaitable<void> connection::open_maildrop(core::server_session& s, std::string_view u) {
    auto hook = srv.hooks.open_maildrop;
    std::string user(u);
    using result_type =
        boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure>;
    result_type r = core::maildrop_failure::temporary;
    const auto began = clock_type::now();
    if (srv.hooks.maildrops_local) {
        r = hook(user);
    } else {
        (void)co_await flush();
        r = co_await offload([&] { return hook(user); });
    }
    srv.metrics.store_call(store_operation::open_maildrop, r.has_value(),
                           clock_type::now() - began);
    if (!r) {
        s.complete_open_maildrop(r.error());
        co_return;
    }
    drop = std::move(*r);
    drop_local = drop->served_locally();
    log.debug("maildrop of {} opened: {} messages", sanitize_for_log(user, 80),
              drop->messages().size());
    std::optional<core::mail_policy> policy;
    if (auto admit = srv.hooks.admit_login) {
        const auto now = std::chrono::system_clock::now();
        login_admission a;
        if (srv.hooks.maildrops_local)
            a = admit(user, now);
        else
            a = co_await offload([&] { return admit(user, now); });
        if (a.wait_seconds > 0) {
            log.info("login of {} refused: LOGIN-DELAY {} s, {} s left", sanitize_for_log(user, 80),
                     a.policy.login_delay_seconds, a.wait_seconds);
            co_await release(drop);
            s.complete_login_delayed(a.policy.login_delay_seconds, a.wait_seconds);
            co_return;
        }
        policy = a.policy;
    }
    s.complete_open_maildrop(drop->messages(), drop->stable_uids(), policy);
}

void connection::finish(core::server_session& s, core::close_reason why) {
    const auto& st = s.stats();
    srv.metrics.session_ended(why);
    srv.metrics.messages_deleted(st.deleted);
    in_session = false;
    log.info("session end: user={} reason={} retrieved={} ({} octets) top={} deleted={} tls={}",
             s.user().empty() ? std::string("-") : sanitize_for_log(s.user(), 80),
             core::to_string(why), st.retrieved, st.retrieved_octets, st.top, st.deleted,
             s.tls_active() ? "yes" : "no");
}

awaitable<void> connection::run() {
    auto self = shared_from_this();
    watch();
    // A write that has to wait for the client is bounded; one that goes out at once costs
    // no timer.
    stream.on_write_wait([this] { arm(srv.opt.send_timeout); });
    if (proxied && !co_await read_proxy_header()) co_return;
    if (!co_await admit()) co_return;
    if (srv.hooks.on_connect) {
        auto hook = srv.hooks.on_connect;
        const std::string addr = peer;
        const bool ok = co_await offload([&] { return hook(addr); });
        if (!ok) {
            log.info("connection refused by the connect hook");
            co_return;
        }
    }
    if (implicit && !co_await handshake()) co_return;

    login_deadline = clock_type::now() + srv.opt.login_timeout;
    core::server_session s(session_config());
    srv.metrics.session_opened();
    in_session = true;
    core::close_reason why = core::close_reason::peer_closed;
    bool running = true;
    clock_type::time_point line_deadline{};
    std::optional<clock_type::time_point> waiting_since;  // verbose.waitTime: ready for a line
    while (running) {
        if (s.state() != core::session_state::authorization)
            login_deadline = clock_type::time_point::max();
        auto action = s.next();
        if (auto* a = std::get_if<core::server_action::send>(&action)) {
            // The reply to QUIT goes out only after the maildrop is unlocked, so a client
            // that reconnects the moment it reads "+OK" never finds its own old lock.
            if (drop && s.update_finished()) co_await release(drop);
            reply().append(a->bytes);
            if (out->size() >= flush_at && co_await flush()) {
                why = core::close_reason::peer_closed;
                break;
            }
        } else if (std::holds_alternative<core::server_action::need_input>(action)) {
            // What the client asked for goes out before waiting for more.
            if (co_await flush()) {
                why = core::close_reason::peer_closed;
                break;
            }
            if (shutdown_requested) {
                s.on_shutdown();
                continue;
            }
            // The idle timeout counts from the start of a command line: bytes that trickle
            // in without a line end do not extend it (slowloris). Before login the login
            // deadline applies as well.
            if (!s.mid_line()) {
                line_deadline = clock_type::now() + srv.opt.idle_timeout;
                if (log.wait_time() && !waiting_since) waiting_since = clock_type::now();
            }
            dog.arm_until(std::min(line_deadline, login_deadline));
            // A plain read is Asio's own operation, with no coroutine frame of ours around it.
            auto [ec, n] = stream.tls_active() ? co_await stream.read_some(asio::buffer(rbuf))
                                               : co_await socket.async_read_some(
                                                     asio::buffer(rbuf), as_tuple_awaitable);
            disarm();
            if (!ec) {
                srv.metrics.octets_received(n);
                if (waiting_since)
                    log.server_wait("the client's next line", clock_type::now() - *waiting_since);
                waiting_since.reset();
                s.feed(std::string_view(rbuf.data(), n));
            } else if (shutdown_requested) {
                s.on_shutdown();
            } else if (timed_out && ec == asio::error::operation_aborted) {
                timed_out = false;
                if (clock_type::now() >= login_deadline) {
                    log.info("login deadline ({} s) passed", srv.opt.login_timeout.count());
                    s.on_login_timeout();
                } else {
                    s.on_timeout();
                }
            } else {
                s.feed_eof();
            }
        } else if (auto* v = std::get_if<core::server_action::verify_password>(&action)) {
            if (!co_await verify_password(s, *v)) {
                why = shutdown_requested ? core::close_reason::shutdown
                                         : core::close_reason::login_timeout;
                break;
            }
        } else if (auto* l = std::get_if<core::server_action::lookup_secret>(&action)) {
            auto hook = srv.hooks.lookup_secret;
            std::string user(l->user);
            if (!hook) {
                s.complete_lookup(std::nullopt);
                continue;
            }
            (void)co_await flush();
            auto secret = co_await offload([&] { return hook(user); });
            s.complete_lookup(std::move(secret));
        } else if (auto* k = std::get_if<core::server_action::derive_secret>(&action)) {
            if (!co_await derive_secret(s, *k)) {
                why = shutdown_requested ? core::close_reason::shutdown
                                         : core::close_reason::login_timeout;
                break;
            }
        } else if (auto* tv = std::get_if<core::server_action::validate_token>(&action)) {
            if (!co_await validate_token(s, *tv)) {
                why = shutdown_requested ? core::close_reason::shutdown
                                         : core::close_reason::login_timeout;
                break;
            }
        } else if (auto* o = std::get_if<core::server_action::open_maildrop>(&action)) {
            co_await open_maildrop(s, o->user);
        } else if (auto* m = std::get_if<core::server_action::open_message>(&action)) {
            co_await open_message(s, m->index);
        } else if (auto* sm = std::get_if<core::server_action::stream_message>(&action)) {
            if (!co_await stream_message(s, sm->index, sm->body_lines)) {
                s.complete_message(false);
            }
        } else if (std::holds_alternative<core::server_action::start_tls>(action)) {
            s.complete_tls(co_await handshake());
        } else if (auto* d = std::get_if<core::server_action::delay>(&action)) {
            (void)co_await flush();
            co_await failure_delay(d->milliseconds);
        } else if (auto* c = std::get_if<core::server_action::commit_deletions>(&action)) {
            (void)co_await flush();
            auto* md = drop.get();
            std::vector<std::size_t> indices(c->indices.begin(), c->indices.end());
            std::vector<std::size_t> retrieved(c->retrieved.begin(), c->retrieved.end());
            // Wrapped: a bare error_code as the only result would be thrown by use_awaitable.
            struct commit_result {
                error_code ec;
            };
            if (!retrieved.empty()) {
                const auto now = std::chrono::system_clock::now();
                auto [rec] = co_await offload(
                    [&] { return commit_result{md->record_retrieval(retrieved, now)}; });
                // EXPIRE counts from the first retrieval; one not recorded is counted from
                // a later one, so mail stays longer, never shorter.
                if (rec) log.warn("retrieval times not recorded: {}", rec.message());
            }
            commit_result done{};
            if (!indices.empty()) {
                const auto began = clock_type::now();
                done =
                    co_await offload([&] { return commit_result{md->commit_deletions(indices)}; });
                srv.metrics.store_call(store_operation::commit_deletions, !done.ec,
                                       clock_type::now() - began);
            }
            const error_code ec = done.ec;
            if (ec) log.error("UPDATE failed, marked messages kept: {}", ec.message());
            s.complete_commit(!ec);
        } else if (auto* cl = std::get_if<core::server_action::close>(&action)) {
            why = cl->reason;
            running = false;
            (void)co_await flush();
        }
    }
    detail::reply_buffers::give_back(std::move(out));
    co_await drop_message();
    if (drop) co_await release(drop);
    finish(s, why);
    if (stream.tls_active() && why == core::close_reason::quit) {
        arm(srv.opt.handshake_timeout);
        co_await stream.close_tls();
    }
    co_return;
}

server::server(server_options options, server_hooks hooks, logger log)
    : impl_(std::make_unique<impl>()) {
    impl_->opt = std::move(options);
    impl_->hooks = std::move(hooks);
    impl_->log = std::move(log);
}

server::~server() {
    stop();
    if (impl_->blocking) impl_->blocking->join();
}

error_code server::impl::listen(std::uint16_t port, bool implicit_tls, std::string& error_text) {
    error_code ec;
    auto address = asio::ip::make_address(opt.host, ec);
    if (ec) {
        error_text = "host '" + opt.host +
                     "' is not an IP address; use e.g. :: (all), 0.0.0.0 "
                     "or 127.0.0.1";
        return ec;
    }
    tcp::endpoint ep(address, opt.pick_free_ports ? 0 : port);
    auto acc = std::make_unique<tcp::acceptor>(*contexts.front());
    acc->open(ep.protocol(), ec);
    if (!ec && address.is_v6()) acc->set_option(asio::ip::v6_only(false), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        error_text = fmt::format(
            "cannot listen on [{}]:{}: {}{}", opt.host, ep.port(), ec.message(),
            ec == asio::error::access_denied
                ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
            : ec == asio::error::address_in_use ? " (another program uses this port; pick another)"
                                                : "");
        return ec;
    }
    const auto bound = acc->local_endpoint().port();
    (implicit_tls ? bound_tls_port : bound_port) = bound;
    asio::co_spawn(*contexts.front(), accept_loop(*acc, implicit_tls), asio::detached);
    acceptors.push_back(std::move(acc));
    return {};
}

awaitable<void> server::impl::refuse(tcp::socket sock, std::string line) {
    line += "\r\n";
    co_await asio::async_write(sock, asio::buffer(line), as_tuple_awaitable);
    error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<void> server::impl::accept_loop(tcp::acceptor& acceptor, bool implicit_tls) {
    std::size_t next_context = 0;
    for (;;) {
        auto& ctx = *contexts[next_context++ % contexts.size()];
        auto [ec, sock] = co_await acceptor.async_accept(ctx, as_tuple_awaitable);
        if (stopping) co_return;
        if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            log.warn("accept failed: {}", ec.message());
            // Out of descriptors: give sessions a moment to end instead of spinning.
            asio::steady_timer pause(acceptor.get_executor());
            pause.expires_after(std::chrono::milliseconds(100));
            co_await pause.async_wait(as_tuple_awaitable);
            continue;
        }
        error_code ep_ec;
        const auto remote = sock.remote_endpoint(ep_ec);
        if (ep_ec) continue;
        const std::string peer = endpoint_text(remote);
        sock.set_option(tcp::no_delay(true), ep_ec);
        metrics.connection_accepted();
        // Limits are answered in plain text even on the TLS port: refusing before the
        // handshake costs us nothing.
        if (open_connections >= opt.max_connections) {
            log.warn("refusing {}: {} connections open (maxconnections)", peer,
                     open_connections.load());
            metrics.connection_refused(refusal::max_connections);
            asio::co_spawn(ctx,
                           refuse(std::move(sock),
                                  "-ERR [SYS/TEMP] Too many connections; "
                                  "try again later"),
                           asio::detached);
            continue;
        }
        ++open_connections;
        auto c = std::make_shared<connection>(*this, std::move(sock), implicit_tls, remote,
                                              trusted_proxy(remote));
        {
            std::lock_guard lock(live_mutex);
            live.insert(c);
        }
        c->log.debug("connected{}", implicit_tls ? " (implicit TLS)" : "");
        asio::co_spawn(ctx, c->run(), [this, c](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    c->log.error("session ended by an internal error: {}", ex.what());
                }
            }
            c->finished = true;
            // A session cut short by an internal error still leaves the gauge.
            if (c->in_session) metrics.session_ended(core::close_reason::stream_failed);
            c->dog.stop();
            error_code ignored;
            c->socket.close(ignored);
            if (c->counted) peers->release(c->group);
            --open_connections;
            std::lock_guard lock(live_mutex);
            live.erase(c);
        });
    }
}

void server::impl::stop_everything() {
    for (auto& a : acceptors) {
        error_code ignored;
        a->close(ignored);
    }
    std::lock_guard lock(live_mutex);
    for (const auto& c : live) {
        asio::post(c->socket.get_executor(), [c] {
            c->shutdown_requested = true;
            error_code ignored;
            c->socket.cancel(ignored);
            if (c->pause) c->pause->cancel();
        });
    }
    if (signals) {
        error_code ignored;
        signals->cancel(ignored);
    }
    guards.clear();
}

error_code server::start(std::string& error_text) {
    auto& d = *impl_;
    unsigned n = d.opt.threads ? d.opt.threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
        d.contexts.push_back(std::make_unique<asio::io_context>(1));
        d.guards.push_back(asio::make_work_guard(*d.contexts.back()));
    }
    d.blocking = std::make_unique<asio::thread_pool>(std::max(1u, d.opt.blocking_threads));
    d.peers.emplace(detail::penalty_settings{d.opt.penalty_table_size, std::chrono::seconds(60)});
    d.auth_work.emplace(d.opt.max_auth_work_per_ip);

    const bool want_tls = d.opt.tls_port != 0 || !d.opt.cert_file.empty();
    if (want_tls) {
        auto id = d.opt.cert_file.empty()
                      ? make_self_signed_identity(d.opt.host_name)
                      : load_identity(d.opt.cert_file, d.opt.key_file, error_text);
        if (!id) {
            if (error_text.empty()) error_text = "cannot make a self-signed certificate";
            return id.error();
        }
        d.identity = std::move(*id);
        d.tls.emplace(asio::ssl::context::tls_server);
        auto& ctx = *d.tls;
        SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
        // Idle connections give their read/write buffers back to the allocator.
        SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
        // Kernel TLS where the kernel has it: records are then encrypted by the kernel, and
        // a message file can go out with sendfile. Without it OpenSSL does the work.
        SSL_CTX_set_options(ctx.native_handle(), SSL_OP_ENABLE_KTLS);
        // One session ticket after a full handshake (OpenSSL sends two by default): a
        // client resumes with it; a second costs work for a second connection few make.
        SSL_CTX_set_num_tickets(ctx.native_handle(), 1);
        ctx.set_options(asio::ssl::context::default_workarounds |
                        asio::ssl::context::no_compression);
        error_code ec;
        ctx.use_certificate_chain(asio::buffer(d.identity.certificate_pem), ec);
        if (!ec)
            ctx.use_private_key(asio::buffer(d.identity.private_key_pem), asio::ssl::context::pem,
                                ec);
        if (ec) {
            error_text = "the TLS certificate or key is not usable: " + ec.message() +
                         "; check that tls.key belongs to tls.cert";
            return ec;
        }
    }
    if (auto ec = d.prepare_token_validation(error_text)) return ec;
    if (d.opt.port != 0 || d.opt.pick_free_ports) {
        if (auto ec = d.listen(d.opt.port, false, error_text)) return ec;
    }
    if (d.tls && (d.opt.tls_port != 0 || d.opt.pick_free_ports)) {
        if (auto ec = d.listen(d.opt.tls_port, true, error_text)) return ec;
    }
    if (d.acceptors.empty()) {
        error_text = "no listener: both port and tlsport are 0";
        return make_error_code(boost::system::errc::invalid_argument);
    }
    return {};
}

// The introspection endpoint's URL and its TLS client side (TLS 1.2 or newer, certificate
// checked against oauth2.cafile or the system store), checked before any client comes.
error_code server::impl::prepare_token_validation(std::string& error_text) {
    const auto& o = opt.oauth2;
    if (!o.configured()) return {};
    if (!o.introspect_url.empty() && !o.command.empty()) {
        error_text = "oauth2.introspect and oauth2.command exclude each other; give one";
        return make_error_code(boost::system::errc::invalid_argument);
    }
    if (o.introspect_url.empty()) return {};
    if (!detail::make_introspection_endpoint(o, introspection, error_text))
        return make_error_code(boost::system::errc::invalid_argument);
    introspection_tls.emplace(asio::ssl::context::tls_client);
    auto& ctx = *introspection_tls;
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    error_code ec;
    if (o.ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
    } else {
        ctx.load_verify_file(o.ca_file, ec);
    }
    if (ec) {
        error_text = o.ca_file.empty()
                         ? "cannot load the system's CA certificates: " + ec.message()
                         : "oauth2.cafile '" + o.ca_file + "' is not usable: " + ec.message() +
                               "; give a PEM file of CA certificates";
        return ec;
    }
    tokens.emplace(o.cache_entries);
    return {};
}

void server::run(bool handle_signals) {
    auto& d = *impl_;
    if (handle_signals) {
        d.signals.emplace(*d.contexts.front(), SIGINT, SIGTERM);
        if (d.hooks.on_reload) d.signals->add(SIGHUP);
        wait_for_signal();
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < d.contexts.size(); ++i)
        threads.emplace_back([ctx = d.contexts[i].get()] { ctx->run(); });
    d.contexts.front()->run();
    for (auto& t : threads) t.join();
}

void server::wait_for_signal() {
    impl_->signals->async_wait([this](error_code ec, int sig) {
        if (ec) return;
        auto& d = *impl_;
        if (sig == SIGHUP) {
            d.log.info("signal {}: reloading configuration", sig);
            // The reload reads files: keep it off the I/O thread.
            asio::post(*d.blocking, [hook = d.hooks.on_reload] { hook(); });
            wait_for_signal();
            return;
        }
        d.log.info("signal {}: stopping; open sessions end without deleting anything", sig);
        stop();
    });
}

void server::stop() {
    auto& d = *impl_;
    if (d.contexts.empty() || d.stopping.exchange(true)) return;
    if (d.hooks.on_stopping) d.hooks.on_stopping();
    asio::post(*d.contexts.front(), [&d] { d.stop_everything(); });
}

std::uint16_t server::port() const noexcept {
    return impl_->bound_port;
}
std::uint16_t server::tls_port() const noexcept {
    return impl_->bound_tls_port;
}
const server_metrics& server::metrics() const noexcept {
    return impl_->metrics;
}
std::string server::tls_fingerprint() const {
    return impl_->identity.fingerprint_sha256;
}

}  // namespace izypop3::transport
