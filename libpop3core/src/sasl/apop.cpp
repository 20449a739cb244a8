#include <izypop3/core/sasl/apop.hpp>

#include <izypop3/core/crypto.hpp>

namespace izypop3::core::sasl {

std::string apop_digest(std::string_view timestamp, std::string_view secret) {
    std::string data;
    data.reserve(timestamp.size() + secret.size());
    data.append(timestamp);
    data.append(secret);
    return to_hex(digest(hash_algorithm::md5, data));
}

std::string make_apop_timestamp(std::string_view random_hex, std::string_view host) {
    std::string ts;
    ts.reserve(random_hex.size() + host.size() + 3);
    ts += '<';
    ts.append(random_hex);
    ts += '@';
    ts.append(host);
    ts += '>';
    return ts;
}

bool valid_apop_timestamp(std::string_view ts) noexcept {
    // RFC 1939 section 7 wants a msg-id (RFC 822): "<" local "@" domain ">". Being strict
    // about its shape matters: CVE-2007-1558 used crafted "timestamps" from a fake server
    // to recover the APOP secret a few characters at a time.
    if (ts.size() < 5 || ts.front() != '<' || ts.back() != '>') return false;
    const std::string_view inner = ts.substr(1, ts.size() - 2);
    std::size_t at_count = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < inner.size(); ++i) {
        const auto c = static_cast<unsigned char>(inner[i]);
        if (c < 0x21 || c > 0x7e || c == '<' || c == '>') return false;
        if (c == '@') {
            ++at_count;
            at = i;
        }
    }
    return at_count == 1 && at > 0 && at + 1 < inner.size();
}

}  // namespace izypop3::core::sasl
