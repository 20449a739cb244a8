// The client connection: resolve, connect each address in turn, TLS with RFC 7817 checks or
// a pinned fingerprint, reads and writes that fail when they make no progress. A watchdog
// timer cancels the socket when a deadline passes; a generation counter keeps a late timer
// from cancelling the next operation.

#include "client_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <izypop3/core/status_line.hpp>

#include <fmt/format.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <optional>
#include <vector>

namespace izypop3::transport::detail {

using tcp = asio::ip::tcp;
using asio::awaitable;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string seconds_text(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
    return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0);
}

std::string endpoint_text(const tcp::endpoint& ep) {
    const auto a = ep.address();
    return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), ep.port())
                     : fmt::format("{}:{}", a.to_string(), ep.port());
}

std::string hex_fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        if (i) out += ':';
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

std::string subject_text(X509* cert) {
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
    return buf;
}

bool is_ip_address(const std::string& name) {
    error_code ec;
    asio::ip::make_address(name, ec);
    return !ec;
}

// What to tell the user when OpenSSL cannot check the certificate against `name`.
std::string unchecked_name_text(const std::string& where, const std::string& name, bool ip) {
    return fmt::format(
        "cannot check the certificate of {} against {} '{}'{}; nothing would confirm whose "
        "certificate it is, so the connection is refused. Connect by host name, or pin the "
        "certificate with tls.fingerprint (tls.verify false only for a test server)",
        where, ip ? "the address" : "the name", core::printable(name, 80),
        ip && name.find('%') != std::string::npos
            ? " (an IPv6 address with a %scope cannot be matched to a certificate)"
            : "");
}

// Whether OpenSSL accepts `name` for an RFC 6125 check (an IP address against the IP SANs,
// anything else as a host name). It does not for an IPv6 address with a %scope, nor for a
// name with a NUL in it.
bool name_is_checkable(const std::string& name) {
    X509_VERIFY_PARAM* param = X509_VERIFY_PARAM_new();
    if (param == nullptr) return false;
    const int ok = is_ip_address(name)
                       ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
    X509_VERIFY_PARAM_free(param);
    return ok == 1;
}

// Sends SNI for a host name and sets up the chain and name checks on `ssl`. Every call that
// can fail is checked: had one failed silently, the handshake would accept any certificate
// a trusted CA signed for anyone (issue 12, item 6). nullopt, or the reason to refuse.
std::optional<std::string> set_up_checks(SSL* ssl, const std::string& where,
                                         const std::string& name, bool check_chain) {
    const bool ip = is_ip_address(name);
    // RFC 6066 section 3: SNI carries host names only, never addresses. The
    // SSL_set_tlsext_host_name macro hides a C cast; this is the call it makes.
    if (!ip && (name.find('\0') != std::string::npos ||
                SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                         const_cast<char*>(name.c_str())) != 1))
        return fmt::format("cannot send the server name '{}' to {} (SNI); check ip",
                           core::printable(name, 80), where);
    if (!check_chain) {
        // Pinned: the handshake completes whatever signed the certificate, and the
        // fingerprint decides afterwards. verify false: nothing decides; the caller warns.
        SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
        return std::nullopt;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    int ok = 0;
    if (ip) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
    }
    if (ok != 1) return unchecked_name_text(where, name, ip);
    return std::nullopt;
}

}  // namespace

boost::system::result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(
    const tls_client_options& options, std::string& error_text) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
        error_text =
            "OpenSSL refused to set TLS 1.2 as the lowest version; check the OpenSSL "
            "installation";
        return make_error_code(client_errc::tls_setup_failed);
    }
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
    SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    const bool check_chain = options.verify && options.fingerprint.empty();
    if (check_chain) {
        error_code ec;
        if (!options.ca_file.empty()) {
            ctx->load_verify_file(options.ca_file, ec);
            if (ec) {
                error_text = fmt::format(
                    "cannot use tls.cafile {}: {}; it must be a readable PEM file of CA "
                    "certificates",
                    options.ca_file, ec.message());
                return make_error_code(client_errc::tls_setup_failed);
            }
        } else {
            ctx->set_default_verify_paths(ec);
            if (ec) {
                error_text = fmt::format(
                    "cannot load the system's CA certificates: {}; install ca-certificates or "
                    "name a CA file with tls.cafile",
                    ec.message());
                return make_error_code(client_errc::tls_setup_failed);
            }
        }
    }
    return ctx;
}

struct client_connection::state {
    state(asio::any_io_executor ex, client_stream_options o, std::shared_ptr<asio::ssl::context> t)
        : options(std::move(o)), resolver(ex), socket(ex), watchdog(ex), tls_context(std::move(t)) {}

    client_stream_options options;
    tcp::resolver resolver;
    tcp::socket socket;
    std::optional<asio::ssl::stream<tcp::socket&>> tls;
    asio::steady_timer watchdog;
    std::shared_ptr<asio::ssl::context> tls_context;
    std::uint64_t generation = 0;
    bool armed = false;
    bool timed_out = false;
    bool interrupted = false;
    std::string error_text;
    connection_info info;

    void cancel_io() noexcept {
        error_code ignored;
        resolver.cancel();
        socket.cancel(ignored);
    }

    // The handler holds only a weak reference and the generation it was armed for: a
    // deadline that passes after its operation finished (both completions queued at once)
    // must not cancel the operation that follows.
    static void arm(const std::shared_ptr<state>& self, std::chrono::milliseconds d) {
        self->timed_out = false;
        self->armed = true;
        const std::uint64_t gen = ++self->generation;
        self->watchdog.expires_after(d);
        self->watchdog.async_wait([weak = std::weak_ptr<state>(self), gen](error_code ec) {
            if (ec) return;
            auto s = weak.lock();
            if (!s || !s->armed || s->generation != gen) return;
            s->timed_out = true;
            s->cancel_io();
        });
    }

    void disarm() noexcept {
        armed = false;
        watchdog.cancel();
    }

    error_code fail(client_errc e, std::string text) {
        error_text = std::move(text);
        return make_error_code(e);
    }

    std::string where() const { return fmt::format("{}:{}", options.host, options.port); }
};

client_connection::client_connection(asio::any_io_executor executor,
                                     client_stream_options options,
                                     std::shared_ptr<asio::ssl::context> tls)
    : st_(std::make_shared<state>(std::move(executor), std::move(options), std::move(tls))) {}

client_connection::~client_connection() {
    st_->disarm();
    close();
}

const std::string& client_connection::error_text() const noexcept { return st_->error_text; }
const connection_info& client_connection::info() const noexcept { return st_->info; }
const client_stream_options& client_connection::options() const noexcept { return st_->options; }

void client_connection::interrupt() noexcept {
    st_->interrupted = true;
    st_->cancel_io();
}

void client_connection::close() noexcept {
    error_code ignored;
    if (st_->socket.is_open()) {
        st_->socket.shutdown(tcp::socket::shutdown_both, ignored);
        st_->socket.close(ignored);
    }
}

awaitable<error_code> client_connection::connect() {
    auto self = st_;
    auto& s = *self;
    if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
    if (s.options.host.empty())
        co_return s.fail(client_errc::resolve_failed, "no server given; name one with ip HOST");
    if (s.options.tls.fingerprint.size() && !normalize_fingerprint(s.options.tls.fingerprint))
        co_return s.fail(client_errc::bad_fingerprint_option,
                         "tls.fingerprint must be a SHA-256 fingerprint: 64 hexadecimal digits, "
                         "colons allowed");

    if (s.options.implicit_tls) {
        // Refused before any packet when the certificate could not be checked anyway.
        const auto& tls = s.options.tls;
        const std::string& name = tls.server_name.empty() ? s.options.host : tls.server_name;
        if (tls.verify && tls.fingerprint.empty() && !name_is_checkable(name))
            co_return s.fail(client_errc::tls_setup_failed,
                             unchecked_name_text(s.where(), name, is_ip_address(name)));
    }

    // An address needs no resolver (which would hand the work to a thread of its own).
    std::vector<tcp::endpoint> endpoints;
    error_code literal_ec;
    const auto literal = asio::ip::make_address(s.options.host, literal_ec);
    if (!literal_ec) {
        endpoints.emplace_back(literal, s.options.port);
    } else {
        state::arm(self, s.options.connect_timeout);
        auto [rec, results] = co_await s.resolver.async_resolve(
            s.options.host, std::to_string(s.options.port), as_tuple_awaitable);
        s.disarm();
        if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
        if (rec) {
            if (s.timed_out)
                co_return s.fail(client_errc::timed_out,
                                 fmt::format("resolving {} took longer than {}; check the name "
                                             "and the DNS settings",
                                             s.options.host,
                                             seconds_text(s.options.connect_timeout)));
            co_return s.fail(client_errc::resolve_failed,
                             fmt::format("cannot resolve {}: {}; check the server name (ip)",
                                         s.options.host, rec.message()));
        }
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }

    std::string failures;
    bool all_timed_out = true;
    bool connected = false;
    for (const tcp::endpoint& ep : endpoints) {
        error_code ignored;
        s.socket.close(ignored);
        state::arm(self, s.options.connect_timeout);
        auto [cec] = co_await s.socket.async_connect(ep, as_tuple_awaitable);
        s.disarm();
        if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
        if (!cec) {
            s.info.remote_address = endpoint_text(ep);
            connected = true;
            break;
        }
        all_timed_out = all_timed_out && s.timed_out;
        if (!failures.empty()) failures += "; ";
        failures += fmt::format("{}: {}", endpoint_text(ep),
                                s.timed_out ? "no answer within " +
                                                  seconds_text(s.options.connect_timeout)
                                            : cec.message());
    }
    if (!connected) {
        error_code ignored;
        s.socket.close(ignored);
        co_return s.fail(all_timed_out ? client_errc::timed_out : client_errc::connect_failed,
                         fmt::format("cannot connect to {} ({}); check ip and port, and that "
                                     "the server is reachable",
                                     s.where(), failures));
    }
    error_code ignored;
    s.socket.set_option(tcp::no_delay(true), ignored);
    if (s.options.implicit_tls) co_return co_await start_tls();
    co_return error_code{};
}

awaitable<error_code> client_connection::start_tls() {
    auto self = st_;
    auto& s = *self;
    if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
    if (s.tls) co_return s.fail(client_errc::tls_setup_failed, "TLS is already active");
    const auto& opt = s.options.tls;
    std::optional<std::string> pin;
    if (!opt.fingerprint.empty()) {
        pin = normalize_fingerprint(opt.fingerprint);
        if (!pin)
            co_return s.fail(client_errc::bad_fingerprint_option,
                             "tls.fingerprint must be a SHA-256 fingerprint: 64 hexadecimal "
                             "digits, colons allowed");
    }
    if (!s.tls_context) {
        auto made = make_client_tls_context(opt, s.error_text);
        if (!made) co_return made.error();
        s.tls_context = std::move(*made);
    }
    s.tls.emplace(s.socket, *s.tls_context);
    SSL* ssl = s.tls->native_handle();
    const std::string name = opt.server_name.empty() ? s.options.host : opt.server_name;
    const bool check_chain = opt.verify && !pin;
    if (auto refusal = set_up_checks(ssl, s.where(), name, check_chain)) {
        close();
        co_return s.fail(client_errc::tls_setup_failed, std::move(*refusal));
    }

    state::arm(self, s.options.handshake_timeout);
    auto [ec] = co_await s.tls->async_handshake(asio::ssl::stream_base::client,
                                                as_tuple_awaitable);
    s.disarm();
    if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
    if (ec) {
        if (s.timed_out)
            co_return s.fail(client_errc::timed_out,
                             fmt::format("the TLS handshake with {} did not finish within {}; "
                                         "is this port TLS (tls true) or plain (starttls)?",
                                         s.where(), seconds_text(s.options.handshake_timeout)));
        const long verify = SSL_get_verify_result(ssl);
        if (check_chain && verify != X509_V_OK) {
            co_return s.fail(
                client_errc::certificate_rejected,
                fmt::format("the certificate of {} is not trusted: {} (checked name: {}); if "
                            "the server uses a private CA, name it with tls.cafile FILE, or pin "
                            "the certificate with tls.fingerprint SHA256",
                            s.where(), X509_verify_cert_error_string(verify), name));
        }
        co_return s.fail(client_errc::tls_handshake_failed,
                         fmt::format("the TLS handshake with {} failed: {}; check that the port "
                                     "speaks TLS and supports TLS 1.2 or later",
                                     s.where(), ec.message()));
    }
    s.info.tls = true;
    s.info.tls_version = SSL_get_version(ssl);
    s.info.cipher = SSL_get_cipher_name(ssl);
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
        s.info.peer_fingerprint = hex_fingerprint(cert);
        s.info.peer_subject = subject_text(cert);
        X509_free(cert);
    }
    if (pin && s.info.peer_fingerprint != *pin) {
        close();
        co_return s.fail(client_errc::fingerprint_mismatch,
                         fmt::format("the certificate of {} has SHA-256 fingerprint {}, not the "
                                     "pinned {}; if the server's certificate was renewed, check "
                                     "the new one and update tls.fingerprint",
                                     s.where(),
                                     s.info.peer_fingerprint.empty() ? std::string("(none)")
                                                                     : s.info.peer_fingerprint,
                                     *pin));
    }
    s.info.verified = check_chain || pin.has_value();
    co_return error_code{};
}

awaitable<std::tuple<error_code, std::size_t>> client_connection::read_some(
    asio::mutable_buffer buffer) {
    auto self = st_;
    auto& s = *self;
    if (s.interrupted) co_return std::tuple{s.fail(client_errc::interrupted, "interrupted"), 0};
    state::arm(self, s.options.idle_timeout);
    auto [ec, n] = s.tls ? co_await s.tls->async_read_some(buffer, as_tuple_awaitable)
                         : co_await s.socket.async_read_some(buffer, as_tuple_awaitable);
    s.disarm();
    if (s.interrupted) co_return std::tuple{s.fail(client_errc::interrupted, "interrupted"), 0};
    if (!ec) co_return std::tuple{error_code{}, n};
    if (s.timed_out)
        co_return std::tuple{
            s.fail(client_errc::timed_out,
                   fmt::format("{} sent nothing for {}; giving up (raise timeout for a slow "
                               "server)",
                               s.where(), seconds_text(s.options.idle_timeout))),
            0};
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        co_return std::tuple{
            s.fail(client_errc::connection_closed,
                   fmt::format("{} closed the connection", s.where())),
            0};
    s.error_text = fmt::format("reading from {} failed: {}", s.where(), ec.message());
    co_return std::tuple{ec, 0};
}

awaitable<error_code> client_connection::write_all(asio::const_buffer bytes) {
    auto self = st_;
    auto& s = *self;
    while (bytes.size() > 0) {
        if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
        // One timeout per write_some: a slow but moving connection is not idle.
        state::arm(self, s.options.idle_timeout);
        auto [ec, n] = s.tls ? co_await s.tls->async_write_some(bytes, as_tuple_awaitable)
                             : co_await s.socket.async_write_some(bytes, as_tuple_awaitable);
        s.disarm();
        if (s.interrupted) co_return s.fail(client_errc::interrupted, "interrupted");
        if (ec) {
            if (s.timed_out)
                co_return s.fail(client_errc::timed_out,
                                 fmt::format("{} accepted nothing for {}; giving up", s.where(),
                                             seconds_text(s.options.idle_timeout)));
            if (ec == asio::error::broken_pipe || ec == asio::error::connection_reset ||
                ec == asio::error::eof)
                co_return s.fail(client_errc::connection_closed,
                                 fmt::format("{} closed the connection ({})", s.where(),
                                             ec.message()));
            s.error_text = fmt::format("writing to {} failed: {}", s.where(), ec.message());
            co_return ec;
        }
        bytes += n;
    }
    co_return error_code{};
}

}  // namespace izypop3::transport::detail
