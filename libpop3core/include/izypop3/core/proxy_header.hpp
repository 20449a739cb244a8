#pragma once
// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) as a sans-I/O
// reader: a load balancer or TLS terminator in front of the server sends it first on each
// connection to say who the client really is. The reader asks for exactly the octets that
// belong to the header and never for one more, so whatever follows (POP3 commands, a TLS
// ClientHello) stays unread in the socket for the session or the TLS stream.
//
// Only peers the operator trusts may send this header; a transport must not run the reader
// on a connection from anyone else (the header would let a client pick its own address).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace izypop3::core {

/// One end of a proxied TCP connection.
struct proxy_endpoint {
    bool v6 = false;
    std::array<std::uint8_t, 16> address{};  ///< network order; IPv4 uses the first 4 octets
    std::uint16_t port = 0;

    /// "192.0.2.1" or "2001:db8::1" (RFC 5952 form).
    std::string address_text() const;
    bool operator==(const proxy_endpoint&) const = default;
};

/// What a complete header says.
struct proxy_header {
    unsigned version = 0;  ///< 1 (text) or 2 (binary)
    /// A TCP client over IPv4 or IPv6 was proxied: source and destination are set. False for
    /// v1 "UNKNOWN", v2 LOCAL (the proxy's own health checks) and v2 PROXY with an
    /// unspecified or UNIX-socket family: then the connection stands for the proxy itself.
    bool has_addresses = false;
    proxy_endpoint source;       ///< the client
    proxy_endpoint destination;  ///< the address the client connected to
};

/// Reads one PROXY header from the start of a connection.
///
/// Usage: while bytes_needed() > 0, read exactly that many octets (or fewer) from the peer
/// and feed() them; then done() or failed(). A peer that stops sending or closes before the
/// header is complete is the transport's to time out.
class proxy_header_reader {
  public:
    /// v1 lines are at most 107 octets with their CRLF (proxy-protocol.txt section 2.1).
    static constexpr std::size_t max_v1_size = 107;
    /// A v2 header (16 fixed octets, addresses and TLVs) longer than this is refused. HAProxy
    /// sends a few hundred octets at most, with every TLV it knows switched on.
    static constexpr std::size_t default_max_v2_size = 4096;

    explicit proxy_header_reader(std::size_t max_v2_size = default_max_v2_size) noexcept
        : max_v2_size_(max_v2_size) {}

    /// How many more octets the header certainly has: feed at most this many. Zero once the
    /// header is complete or refused.
    std::size_t bytes_needed() const noexcept;

    /// Takes up to bytes_needed() octets from the front of `bytes` and returns how many it
    /// took (the rest belongs to the connection after the header).
    std::size_t feed(std::string_view bytes);

    bool done() const noexcept { return state_ == state::done; }
    bool failed() const noexcept { return state_ == state::failed; }
    /// Valid when done().
    const proxy_header& header() const noexcept { return header_; }
    /// When failed(): what was wrong, one line, e.g. "PROXY v1 header: bad source port".
    const std::string& error() const noexcept { return error_; }
    /// Octets taken so far.
    std::size_t size() const noexcept { return buf_.size(); }

  private:
    enum class state { start, v1, v2_fixed, v2_block, done, failed };

    void classify();
    void v1_octet();
    void parse_v1();
    void parse_v2_fixed();
    void parse_v2_block();
    void fail(std::string why);

    std::size_t max_v2_size_;
    state state_ = state::start;
    std::string buf_;
    std::size_t v2_total_ = 0;
    proxy_header header_;
    std::string error_;
};

}  // namespace izypop3::core
