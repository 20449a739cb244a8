#include <izypop3/transport/oauth2_options.hpp>

#include <charconv>

namespace izypop3::transport {

bool parse_https_url(const std::string& url, https_url& out, std::string& why) {
    constexpr std::string_view scheme = "https://";
    std::string_view rest(url);
    if (!rest.starts_with(scheme)) {
        why = "oauth2.introspect '" + url + "' is not an https:// URL; the token travels in it";
        return false;
    }
    rest.remove_prefix(scheme.size());
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (authority.find('@') != std::string_view::npos ||
        out.target.find('#') != std::string::npos || authority.empty()) {
        why = "oauth2.introspect '" + url +
              "': give https://host[:port]/path, without user info or a fragment (client "
              "credentials go in oauth2.clientid and oauth2.clientsecreteval)";
        return false;
    }
    std::string_view port;
    if (authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            why = "oauth2.introspect '" + url + "': an IPv6 address needs its closing ']'";
            return false;
        }
        out.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            why = "oauth2.introspect '" + url + "': expected ':PORT' after ']'";
            return false;
        }
        if (!after.empty()) port = after.substr(1);
    } else {
        const std::size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (port.data() != nullptr) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            why = "oauth2.introspect '" + url + "': the port must be 1 to 65535";
            return false;
        }
        out.port = std::to_string(value);
    }
    if (out.host.empty()) {
        why = "oauth2.introspect '" + url + "' names no host";
        return false;
    }
    return true;
}

}  // namespace izypop3::transport
