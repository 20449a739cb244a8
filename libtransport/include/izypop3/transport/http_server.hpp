#pragma once
// A small HTTP/1.1 server for the operator's endpoints (/metrics, /healthz, /readyz): GET
// and HEAD only, a bounded request, a deadline on every read and write, a cap on open
// connections. It runs on a thread of its own, so a scrape never takes a POP3 I/O thread.
// No Asio or Beast in this header; Beast stays in http_server.cpp.

#include <izypop3/transport/logger.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace izypop3::transport {

struct http_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;                    ///< 0: the kernel chooses one
    std::chrono::seconds request_timeout{10};  ///< to read a request, and to write its reply
    std::size_t max_request_octets = 8192;     ///< request line, header fields and body
    std::size_t max_connections = 32;
};

struct http_reply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

/// Answers a GET for `path` (the target without its query). Called on a worker thread, so it
/// may wait (a store query); more than one may run at once.
using http_handler = std::function<http_reply(std::string_view path)>;

class http_server {
  public:
    http_server(http_options options, http_handler handler, logger log);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Binds the listener; `error_text` says what failed.
    boost::system::error_code start(std::string& error_text);
    /// Serves on a thread of its own until stop() (or destruction).
    void serve_in_background();
    void stop();
    std::uint16_t port() const noexcept;

    struct impl;

  private:
    std::unique_ptr<impl> impl_;
};

}  // namespace izypop3::transport
