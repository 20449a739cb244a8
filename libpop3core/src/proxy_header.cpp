// PROXY protocol v1 and v2 (HAProxy's proxy-protocol.txt). The reader classifies the header
// after the 15 octets every header has, then reads a v1 line one octet at a time up to its
// CRLF (at most 107 octets) or a v2 header's 16 fixed octets and exactly the length they
// announce. It never asks for an octet beyond the header.

#include <izypop3/core/proxy_header.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

namespace izypop3::core {
namespace {

using namespace std::string_view_literals;

constexpr std::size_t shortest_header = 15;  // "PROXY UNKNOWN\r\n"
constexpr std::size_t v2_fixed_size = 16;
constexpr std::string_view v2_signature = "\r\n\r\n\0\r\nQUIT\n"sv;
constexpr std::string_view v1_prefix = "PROXY "sv;

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto sp = s.find(' ');
        out.push_back(s.substr(0, sp));
        if (sp == std::string_view::npos) return out;
        s.remove_prefix(sp + 1);
    }
}

// A decimal without sign or leading zero, at most `max`.
std::optional<unsigned> strict_decimal(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    if (v > max) return std::nullopt;
    return v;
}

// Dotted quad, four decimal parts 0-255 without leading zeros (no octal or short forms).
bool parse_v4(std::string_view s, proxy_endpoint& e) {
    std::size_t part = 0;
    for (;;) {
        const auto dot = s.find('.');
        const auto v = strict_decimal(s.substr(0, dot), 255);
        if (!v || part >= 4) return false;
        e.address[part++] = static_cast<std::uint8_t>(*v);
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    e.v6 = false;
    return part == 4;
}

bool parse_v6(std::string_view s, proxy_endpoint& e) {
    // inet_pton needs a terminated string; 45 characters is the longest IPv6 text.
    if (s.empty() || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
    char text[46] = {};
    std::memcpy(text, s.data(), s.size());
    if (::inet_pton(AF_INET6, text, e.address.data()) != 1) return false;
    e.v6 = true;
    return true;
}

std::uint16_t big_endian16(std::string_view s, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(s[at]) << 8) |
                                      static_cast<unsigned char>(s[at + 1]));
}

}  // namespace

std::string proxy_endpoint::address_text() const {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text);
    return text;
}

std::size_t proxy_header_reader::bytes_needed() const noexcept {
    switch (state_) {
        case state::start:
            return shortest_header - buf_.size();
        case state::v1:
            return 1;  // the line ends where its CRLF is; no way to know sooner
        case state::v2_fixed:
            return v2_fixed_size - buf_.size();
        case state::v2_block:
            return v2_total_ - buf_.size();
        case state::done:
        case state::failed:
            return 0;
    }
    return 0;
}

std::size_t proxy_header_reader::feed(std::string_view bytes) {
    std::size_t taken = 0;
    while (taken < bytes.size()) {
        const std::size_t n = std::min(bytes_needed(), bytes.size() - taken);
        if (n == 0) break;
        buf_.append(bytes.substr(taken, n));
        taken += n;
        switch (state_) {
            case state::start:
                if (buf_.size() == shortest_header) classify();
                break;
            case state::v1:
                v1_octet();
                break;
            case state::v2_fixed:
                if (buf_.size() == v2_fixed_size) parse_v2_fixed();
                break;
            case state::v2_block:
                if (buf_.size() == v2_total_) parse_v2_block();
                break;
            case state::done:
            case state::failed:
                break;
        }
    }
    return taken;
}

void proxy_header_reader::fail(std::string why) {
    state_ = state::failed;
    error_ = std::move(why);
}

void proxy_header_reader::classify() {
    if (buf_.starts_with(v2_signature)) {
        state_ = state::v2_fixed;
        return;
    }
    if (!buf_.starts_with(v1_prefix)) {
        fail("not a PROXY protocol header (neither v1 \"PROXY \" nor the v2 signature)");
        return;
    }
    state_ = state::v1;
    // The shortest line may be complete already; anything else in these octets must be
    // printable text of the line.
    for (std::size_t i = 0; i < buf_.size(); ++i) {
        const char c = buf_[i];
        if (c == '\r' && i + 1 == buf_.size() - 1 && buf_.back() == '\n') {
            parse_v1();
            return;
        }
        if (c == '\r' && i + 1 == buf_.size()) return;  // its LF comes next
        if (c < 0x20 || c > 0x7e) {
            fail("PROXY v1 header: a control octet before the CRLF");
            return;
        }
    }
}

void proxy_header_reader::v1_octet() {
    const std::size_t n = buf_.size();
    const char c = buf_[n - 1];
    const char before = buf_[n - 2];
    if (before == '\r') {
        if (c != '\n') {
            fail("PROXY v1 header: CR without LF");
            return;
        }
        parse_v1();
        return;
    }
    if (c == '\n') {
        fail("PROXY v1 header: the line ends in a bare LF, not CRLF");
        return;
    }
    if (c != '\r' && (c < 0x20 || c > 0x7e)) {
        fail("PROXY v1 header: a control octet before the CRLF");
        return;
    }
    if (n >= max_v1_size) fail("PROXY v1 header: no CRLF within 107 octets");
}

void proxy_header_reader::parse_v1() {
    const std::string_view line = std::string_view(buf_).substr(0, buf_.size() - 2);
    const auto fields = split_spaces(line.substr(v1_prefix.size()));
    header_ = proxy_header{};
    header_.version = 1;
    if (fields[0] == "UNKNOWN") {
        // The rest of the line is to be ignored (section 2.1).
        state_ = state::done;
        return;
    }
    const bool v6 = fields[0] == "TCP6";
    if (!v6 && fields[0] != "TCP4") {
        fail("PROXY v1 header: protocol is neither TCP4, TCP6 nor UNKNOWN");
        return;
    }
    if (fields.size() != 5) {
        fail(
            "PROXY v1 header: want exactly source, destination, source port and destination "
            "port after the protocol, one space apart");
        return;
    }
    auto address = v6 ? parse_v6 : parse_v4;
    if (!address(fields[1], header_.source) || !address(fields[2], header_.destination)) {
        fail(v6 ? "PROXY v1 header: an address is not IPv6 text"
                : "PROXY v1 header: an address is not a dotted IPv4 quad");
        return;
    }
    const auto sport = strict_decimal(fields[3], 65535);
    const auto dport = strict_decimal(fields[4], 65535);
    if (!sport || !dport) {
        fail("PROXY v1 header: a port is not a decimal 0-65535");
        return;
    }
    header_.source.port = static_cast<std::uint16_t>(*sport);
    header_.destination.port = static_cast<std::uint16_t>(*dport);
    header_.has_addresses = true;
    state_ = state::done;
}

void proxy_header_reader::parse_v2_fixed() {
    const auto ver_cmd = static_cast<unsigned char>(buf_[12]);
    if ((ver_cmd >> 4) != 2) {
        fail("PROXY v2 header: version is not 2");
        return;
    }
    if ((ver_cmd & 0x0f) > 1) {
        fail("PROXY v2 header: command is neither LOCAL nor PROXY");
        return;
    }
    v2_total_ = v2_fixed_size + big_endian16(buf_, 14);
    if (v2_total_ > max_v2_size_) {
        fail("PROXY v2 header: " + std::to_string(v2_total_) + " octets, more than the " +
             std::to_string(max_v2_size_) + " accepted");
        return;
    }
    state_ = state::v2_block;
    if (buf_.size() == v2_total_) parse_v2_block();
}

void proxy_header_reader::parse_v2_block() {
    header_ = proxy_header{};
    header_.version = 2;
    const bool local = (static_cast<unsigned char>(buf_[12]) & 0x0f) == 0;
    const auto fam = static_cast<unsigned char>(buf_[13]);
    const std::string_view block = std::string_view(buf_).substr(v2_fixed_size);
    // LOCAL and an unspecified or UNIX-socket family: the block is to be skipped, and the
    // connection's own endpoints stand (section 2.2).
    if (local || fam == 0x00 || fam == 0x31) {
        state_ = state::done;
        return;
    }
    std::size_t addresses = 0;
    if (fam == 0x11) {
        addresses = 12;
    } else if (fam == 0x21) {
        addresses = 36;
    } else {
        fail("PROXY v2 header: not TCP over IPv4 or IPv6 (family/protocol octet " +
             std::to_string(fam) + ")");
        return;
    }
    if (block.size() < addresses) {
        fail("PROXY v2 header: the address block is shorter than its family needs");
        return;
    }
    const std::size_t len = addresses == 12 ? 4 : 16;
    header_.source.v6 = header_.destination.v6 = addresses == 36;
    std::memcpy(header_.source.address.data(), block.data(), len);
    std::memcpy(header_.destination.address.data(), block.data() + len, len);
    header_.source.port = big_endian16(block, 2 * len);
    header_.destination.port = big_endian16(block, 2 * len + 2);
    // TLVs (ALPN, authority, SSL details...) are not used, but their framing must add up.
    std::string_view tlvs = block.substr(addresses);
    while (!tlvs.empty()) {
        if (tlvs.size() < 3 || big_endian16(tlvs, 1) > tlvs.size() - 3) {
            fail("PROXY v2 header: a TLV runs past the end of the header");
            return;
        }
        tlvs.remove_prefix(3 + big_endian16(tlvs, 1));
    }
    header_.has_addresses = true;
    state_ = state::done;
}

}  // namespace izypop3::core
