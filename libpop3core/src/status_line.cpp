#include <izypop3/core/status_line.hpp>

#include <cstring>

namespace izypop3::core {

namespace {

bool starts_with_nocase(std::string_view s, std::string_view upper_prefix) noexcept {
    if (s.size() < upper_prefix.size()) return false;
    for (std::size_t i = 0; i < upper_prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != upper_prefix[i]) return false;
    }
    return true;
}

// RFC 2449 section 9: resp-level = 1*rchar, rchar = %x21-2E / %x30-5C / %x5E-7F, i.e.
// printable ASCII other than "/" and "]" (DEL is excluded here too: it is not printable).
bool is_rchar(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e && c != '/' && c != ']';
}

// Length of a resp-code "[LEVEL/LEVEL]" at the start of `s`, brackets included, or 0 when
// `s` does not start with one.
std::size_t resp_code_length(std::string_view s) noexcept {
    if (s.empty() || s[0] != '[') return 0;
    std::size_t i = 1;
    bool level_has_octets = false;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c == ']') return level_has_octets ? i + 1 : 0;
        if (c == '/') {
            if (!level_has_octets) return 0;
            level_has_octets = false;
        } else if (is_rchar(c)) {
            level_has_octets = true;
        } else {
            return 0;
        }
    }
    return 0;  // no closing bracket: plain text that happens to start with '['
}

}  // namespace

boost::system::result<status_line> parse_status_line(std::string_view line) noexcept {
    if (std::memchr(line.data(), '\0', line.size()) != nullptr) return errc::nul_in_line;

    status_line st;
    std::size_t status_len = 0;
    if (starts_with_nocase(line, "+OK")) {
        st.kind = status_kind::ok;
        status_len = 3;
    } else if (starts_with_nocase(line, "-ERR")) {
        st.kind = status_kind::err;
        status_len = 4;
    } else if (starts_with_nocase(line, "+")) {
        st.kind = status_kind::continuation;
        status_len = 1;
    } else {
        return errc::malformed_status;
    }
    // "+OKAY" or "-ERROR" is not a status; "+X" is not a continuation (RFC 5034 section 4:
    // "+" SP base64, or "+" alone for an empty challenge).
    if (line.size() > status_len && line[status_len] != ' ') return errc::malformed_status;
    std::string_view rest = line.size() > status_len ? line.substr(status_len + 1) : "";

    if (st.kind != status_kind::continuation) {
        // RFC 2449 sections 8-9: an extended response code comes right after the status
        // ("text = *schar / resp-code *CHAR"). It is only taken as one when well formed;
        // otherwise the brackets are just text. One space after it separates the text.
        const std::size_t n = resp_code_length(rest);
        if (n != 0) {
            st.code = rest.substr(1, n - 2);
            rest.remove_prefix(n);
            if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        }
    }
    st.text = rest;
    return st;
}

std::string printable(std::string_view text, std::size_t max) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() < max ? text.size() : max);
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool plain = u >= 0x20 && u < 0x7f;
        const std::size_t need = plain ? 1 : 4;
        // An escape is never cut in half, and the scan stops at the limit, so a 100 KB server
        // line costs no more than a short one (SECURITY C20).
        if (out.size() + need > max) {
            out += "...";
            return out;
        }
        if (plain) {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0x0f];
        }
    }
    return out;
}

}  // namespace izypop3::core
