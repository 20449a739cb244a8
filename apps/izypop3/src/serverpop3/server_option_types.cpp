#include "serverpop3/server_option_types.hpp"

#include "cli/option_types.hpp"

#include <izypop3/core/sasl/passwd_file.hpp>
#include <izypop3/transport/logger.hpp>

#include <fmt/format.h>
#include <boost/any.hpp>

namespace izypop3::app {
namespace {

// The user's text in an error message: control octets escaped, length bounded.
std::string shown(std::string_view text) {
    std::string out(1, '\'');
    out += transport::sanitize_for_log(text, 80);
    out += '\'';
    return out;
}

}  // namespace

void validate(boost::any& v, const std::vector<std::string>& values, plaintext_policy*, int) {
    const std::string& text = values.at(0);
    bool everyone = false;
    if (text == "loopback") {
        v = plaintext_policy{transport::cleartext_policy::loopback};
    } else if (parse_flag(text, everyone)) {
        v = plaintext_policy{everyone ? transport::cleartext_policy::always
                                      : transport::cleartext_policy::never};
    } else {
        throw bad_value(
            fmt::format("loopback, true or false (also yes/no, on/off, 1/0), got {}", shown(text)));
    }
}

void validate(boost::any& v, const std::vector<std::string>& values, network_list*, int) {
    // The key may be given more than once (composing): each adds to the list.
    network_list list;
    if (!v.empty()) list = boost::any_cast<network_list>(v);
    for (const std::string& token : values) {
        std::size_t pos = 0;
        for (;;) {
            const auto comma = token.find(',', pos);
            const std::string item = token.substr(pos, comma - pos);
            const auto n = transport::ip_network::parse(item);
            if (!n)
                throw bad_value(fmt::format(
                    "ADDRESS/PREFIX[,ADDRESS/PREFIX...] such as 127.0.0.1/32 or 10.0.0.0/8; "
                    "{} is not an address with an optional /PREFIX",
                    shown(item)));
            list.networks.push_back(*n);
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
    }
    v = list;
}

void validate(boost::any& v, const std::vector<std::string>& values, expire_setting*, int) {
    const std::string& text = values.at(0);
    const auto days = core::sasl::parse_expire_days(text);
    if (!days)
        throw bad_value(
            fmt::format("never or a number of days from 0 to 36500, got {}", shown(text)));
    v = expire_setting{*days};
}

std::ostream& operator<<(std::ostream& os, const expire_setting& e) {
    if (e.days == core::sasl::expire_never) return os << "never";
    return os << e.days;
}

std::ostream& operator<<(std::ostream& os, const plaintext_policy& p) {
    switch (p.value) {
        case transport::cleartext_policy::loopback:
            return os << "loopback";
        case transport::cleartext_policy::always:
            return os << "true";
        case transport::cleartext_policy::never:
            return os << "false";
    }
    return os;
}

std::ostream& operator<<(std::ostream& os, const network_list& n) {
    for (std::size_t i = 0; i < n.networks.size(); ++i)
        os << (i ? "," : "") << n.networks[i].to_string();
    return os;
}

}  // namespace izypop3::app
