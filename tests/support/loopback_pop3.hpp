#pragma once
// A transport::server on free loopback ports for socket tests, with its log lines captured,
// and a blocking line client that can pick its source address (127.0.0.2 is another client
// as far as per-address limits go) and send raw bytes such as a PROXY protocol header.

#include <izypop3/core/server_session.hpp>
#include <izypop3/transport/server.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace izypop3::test {

/// A server whose maildrops all fail with "try later": these tests stop at the login.
class loopback_pop3_server {
  public:
    /// `opt` as given, except: listens on 127.0.0.1, free ports, TLS on, one I/O thread.
    /// Empty hooks get defaults: any user, password "12345", plaintext secret known.
    loopback_pop3_server(transport::server_options opt, transport::server_hooks hooks = {}) {
        opt.host = "127.0.0.1";
        opt.pick_free_ports = true;
        opt.tls_port = 1;
        if (opt.threads == 0) opt.threads = 1;
        if (!hooks.verify_password)
            hooks.verify_password = [](std::string_view, std::string_view pw) {
                return pw == "12345" ? core::auth_outcome::accepted : core::auth_outcome::rejected;
            };
        if (!hooks.lookup_secret) {
            hooks.lookup_secret = [](std::string_view) {
                core::sasl::stored_secret s;
                s.plaintext = "12345";
                return std::optional(s);
            };
            hooks.secret_forms.plaintext = true;
        }
        if (!hooks.open_maildrop)
            hooks.open_maildrop = [](std::string_view)
                -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
                return core::maildrop_failure::temporary;
            };
        auto lines = lines_;
        auto mutex = mutex_;
        transport::logger log(transport::log_level::debug,
                              [lines, mutex](transport::log_level, std::string_view l) {
                                  std::lock_guard lock(*mutex);
                                  lines->emplace_back(l);
                              });
        server_ = std::make_unique<transport::server>(opt, hooks, log);
        std::string error;
        const auto ec = server_->start(error);
        EXPECT_FALSE(ec) << error;
        thread_ = std::thread([this] { server_->run(false); });
    }
    ~loopback_pop3_server() {
        server_->stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    std::uint16_t tls_port() const { return server_->tls_port(); }

    /// The log lines so far.
    std::vector<std::string> log() const {
        std::lock_guard lock(*mutex_);
        return *lines_;
    }
    /// Log lines containing `part`.
    std::vector<std::string> log_with(std::string_view part) const {
        std::vector<std::string> out;
        for (const auto& l : log())
            if (l.find(part) != std::string::npos) out.push_back(l);
        return out;
    }
    /// Waits (bounded) until `n` log lines contain `part`; the log is written by the server
    /// thread a moment after the client saw the reply.
    std::vector<std::string> wait_for_log(std::string_view part, std::size_t n = 1) const {
        for (int i = 0; i < 500; ++i) {
            auto found = log_with(part);
            if (found.size() >= n) return found;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return log_with(part);
    }

  private:
    std::shared_ptr<std::vector<std::string>> lines_ = std::make_shared<std::vector<std::string>>();
    std::shared_ptr<std::mutex> mutex_ = std::make_shared<std::mutex>();
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
};

/// A blocking POP3 line client over plain TCP or TLS.
class line_client {
  public:
    explicit line_client(std::uint16_t port, const std::string& source = "127.0.0.1") : sock_(io_) {
        namespace asio = boost::asio;
        sock_.open(asio::ip::tcp::v4());
        sock_.bind(asio::ip::tcp::endpoint(asio::ip::make_address(source), 0));
        sock_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    void start_tls() {
        ctx_.set_verify_mode(boost::asio::ssl::verify_none);
        tls_.emplace(sock_, ctx_);
        tls_->handshake(boost::asio::ssl::stream_base::client);
    }
    void send(std::string_view bytes) {
        if (tls_)
            boost::asio::write(*tls_, boost::asio::buffer(bytes));
        else
            boost::asio::write(sock_, boost::asio::buffer(bytes));
    }
    /// The next line without its CRLF, or "<error text>" when the connection ended, or
    /// "<no answer>" after 20 s (a server that never answers fails the test, not hangs it).
    std::string line() {
        boost::system::error_code ec = boost::asio::error::timed_out;
        std::size_t n = 0;
        auto done = [&](boost::system::error_code e, std::size_t got) {
            ec = e;
            n = got;
        };
        if (tls_)
            boost::asio::async_read_until(*tls_, buf_, "\r\n", done);
        else
            boost::asio::async_read_until(sock_, buf_, "\r\n", done);
        io_.restart();
        io_.run_for(std::chrono::seconds(20));
        if (!io_.stopped()) {
            boost::system::error_code ignored;
            sock_.cancel(ignored);
            io_.run();
            return "<no answer>";
        }
        if (ec) return "<" + ec.message() + ">";
        std::string l(boost::asio::buffers_begin(buf_.data()),
                      boost::asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n) - 2);
        buf_.consume(n);
        return l;
    }
    /// Reads a multi-line body through its terminator without keeping it, and returns how
    /// many octets came before the terminator line (CRLFs included, stuffing not undone):
    /// for bodies of gigabytes, where line() would be too slow.
    std::uint64_t count_body() {
        constexpr std::string_view end = "\r\n.\r\n";
        // Positions count body octets from 0; the status line's CRLF sits at -2 and -1, so an
        // empty body ends at once. A terminator found at position q ends a body of q + 2
        // octets (its first CRLF ends the last body line). `carry` holds the octets just
        // before `seen`, to find a terminator cut between two reads.
        std::string carry = "\r\n";
        std::uint64_t seen = 0;
        std::vector<char> chunk(1 << 20);
        std::string first(boost::asio::buffers_begin(buf_.data()),
                          boost::asio::buffers_end(buf_.data()));
        buf_.consume(buf_.size());
        std::string_view part = first;
        for (;;) {
            const std::string joint = carry + std::string(part.substr(0, end.size() - 1));
            if (const auto at = joint.find(end); at != std::string::npos)
                return seen - carry.size() + at + 2;
            if (const auto at = part.find(end); at != std::string_view::npos)
                return seen + at + 2;
            seen += part.size();
            carry += part.substr(part.size() - std::min(part.size(), end.size() - 1));
            if (carry.size() > end.size() - 1) carry.erase(0, carry.size() - (end.size() - 1));
            boost::system::error_code ec;
            const std::size_t n = tls_ ? tls_->read_some(boost::asio::buffer(chunk), ec)
                                       : sock_.read_some(boost::asio::buffer(chunk), ec);
            if (ec) return seen;
            part = std::string_view(chunk.data(), n);
        }
    }
    /// Bytes the server has sent that were not read yet (a non-blocking look).
    std::size_t pending() {
        boost::system::error_code ec;
        return buf_.size() + sock_.available(ec);
    }
    /// CAPA's lines between the status line and ".".
    std::vector<std::string> capa() {
        send("CAPA\r\n");
        std::vector<std::string> out;
        EXPECT_EQ(line(), "+OK Capability list follows");
        for (std::string l = line(); l != "." && !l.starts_with("<"); l = line()) out.push_back(l);
        return out;
    }

  private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket sock_;
    boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_client};
    std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
    boost::asio::streambuf buf_;
};

inline bool has_line(const std::vector<std::string>& lines, std::string_view l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
}

}  // namespace izypop3::test
