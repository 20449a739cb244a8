// The only file that includes Boost.Beast: HTTP/1.1 over TLS for RFC 7662.

#include "token_introspection.hpp"

#include <izypop3/core/base64.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fmt/format.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <memory>

namespace izypop3::transport::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// An introspection answer is a small JSON object; anything bigger is not one.
constexpr std::uint64_t max_response_body = 64 * 1024;

// application/x-www-form-urlencoded (RFC 6749 appendix B for the client credentials too).
std::string form_encode(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

// Everything one request needs, shared with the deadline's handler so that a late timer
// never touches a finished coroutine's frame.
struct exchange {
    exchange(const asio::any_io_executor& ex, asio::ssl::context& tls)
        : resolver(ex), stream(ex, tls), deadline(ex) {}
    tcp::resolver resolver;
    beast::ssl_stream<beast::tcp_stream> stream;
    asio::steady_timer deadline;
    bool timed_out = false;
};

// SNI and RFC 6125 name checking by OpenSSL during the handshake.
bool prepare_tls(SSL* ssl, const std::string& host) {
    if (is_ip_literal(host))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    // The SSL_set_tlsext_host_name macro hides a C cast; this is the call it makes.
    return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(host.c_str())) == 1 &&
           SSL_set1_host(ssl, host.c_str()) == 1;
}

http::request<http::string_body> request_for(const introspection_endpoint& ep,
                                             const std::string& token) {
    http::request<http::string_body> req{http::verb::post, ep.url.target, 11};
    const std::string host =
        ep.url.host.find(':') != std::string::npos ? "[" + ep.url.host + "]" : ep.url.host;
    req.set(http::field::host, ep.url.port == "443" ? host : host + ":" + ep.url.port);
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, "izypop3");
    req.set(http::field::connection, "close");
    if (!ep.authorization.empty()) req.set(http::field::authorization, ep.authorization);
    req.body() = "token=" + form_encode(token) + "&token_type_hint=access_token";
    req.prepare_payload();
    return req;
}

introspection_outcome failed(const exchange& x, std::string_view step, const error_code& ec) {
    introspection_outcome o;
    o.problem = x.timed_out ? fmt::format("no answer within the deadline ({})", step)
                            : fmt::format("{}: {}", step, ec.message());
    return o;
}

}  // namespace

bool make_introspection_endpoint(const oauth2_options& opt, introspection_endpoint& out,
                                 std::string& why) {
    if (!parse_https_url(opt.introspect_url, out.url, why)) return false;
    out.timeout = opt.timeout;
    out.claim = opt.user_claim;
    if (!opt.client_id.empty())
        out.authorization = "Basic " + core::base64_encode(form_encode(opt.client_id) + ":" +
                                                           form_encode(opt.client_secret));
    return true;
}

asio::awaitable<introspection_outcome> introspect(asio::ssl::context& tls,
                                                  const introspection_endpoint& ep,
                                                  std::string token, std::int64_t now) {
    auto x = std::make_shared<exchange>(co_await asio::this_coro::executor, tls);
    x->deadline.expires_after(ep.timeout);
    x->deadline.async_wait([w = std::weak_ptr<exchange>(x)](const error_code& ec) {
        auto live = w.lock();
        if (ec || !live) return;
        live->timed_out = true;
        live->resolver.cancel();
        beast::get_lowest_layer(live->stream).cancel();
    });
    struct timer_cancel {
        exchange& x;
        ~timer_cancel() { x.deadline.cancel(); }
    } stop_timer{*x};

    auto [rec, endpoints] =
        co_await x->resolver.async_resolve(ep.url.host, ep.url.port, as_tuple_awaitable);
    if (rec || x->timed_out) co_return failed(*x, "looking up " + ep.url.host, rec);
    auto [cec, peer] =
        co_await beast::get_lowest_layer(x->stream).async_connect(endpoints, as_tuple_awaitable);
    if (cec || x->timed_out) co_return failed(*x, "connecting", cec);
    if (!prepare_tls(x->stream.native_handle(), ep.url.host)) {
        introspection_outcome o;
        o.problem = "cannot set up TLS for " + ep.url.host;
        co_return o;
    }
    auto [hec] =
        co_await x->stream.async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
    if (hec || x->timed_out) co_return failed(*x, "TLS handshake", hec);
    auto req = request_for(ep, token);
    std::fill(token.begin(), token.end(), '\0');
    auto [wec, sent] = co_await http::async_write(x->stream, req, as_tuple_awaitable);
    std::fill(req.body().begin(), req.body().end(), '\0');
    if (wec || x->timed_out) co_return failed(*x, "sending the request", wec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_body);
    auto [rdec, got] = co_await http::async_read(x->stream, buffer, parser, as_tuple_awaitable);
    if (rdec || x->timed_out) co_return failed(*x, "reading the response", rdec);
    const auto& res = parser.get();
    introspection_outcome o;
    if (res.result() != http::status::ok) {
        o.problem = fmt::format("the endpoint answered HTTP {}", res.result_int());
        co_return o;
    }
    o.answered = true;
    o.verdict = read_introspection_response(res.body(), ep.claim, now);
    co_return o;
}

}  // namespace izypop3::transport::detail
