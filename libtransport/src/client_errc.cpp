#include <izypop3/transport/client_stream.hpp>

#include <cctype>

namespace izypop3::transport {
namespace {

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "izypop3.transport.client"; }
    std::string message(int ev) const override {
        switch (static_cast<client_errc>(ev)) {
            case client_errc::resolve_failed: return "the host name could not be resolved";
            case client_errc::connect_failed: return "the connection could not be made";
            case client_errc::timed_out: return "no progress within the timeout";
            case client_errc::tls_setup_failed: return "TLS could not be set up";
            case client_errc::tls_handshake_failed: return "the TLS handshake failed";
            case client_errc::certificate_rejected: return "the server certificate is not trusted";
            case client_errc::fingerprint_mismatch:
                return "the server certificate does not match the pinned fingerprint";
            case client_errc::connection_closed: return "the server closed the connection";
            case client_errc::interrupted: return "interrupted";
            case client_errc::bad_fingerprint_option:
                return "a fingerprint must be 64 hexadecimal digits (SHA-256)";
        }
        return "unknown client transport error";
    }
};

}  // namespace

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl category;
    return category;
}

std::optional<std::string> normalize_fingerprint(std::string_view text) {
    if (text.size() >= 7) {
        std::string head(text.substr(0, 7));
        for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (head == "sha256:") text.remove_prefix(7);
    }
    std::string hex;
    for (char ch : text) {
        if (ch == ':' || ch == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(ch))) return std::nullopt;
        hex += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (hex.size() != 64) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (i) out += ':';
        out.append(hex, i, 2);
    }
    return out;
}

}  // namespace izypop3::transport
