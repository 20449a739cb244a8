#include "serverpop3/oauth2_keys.hpp"

#include "cli/option_types.hpp"
#include "clientpop3/password_source.hpp"

#include <izypop3/transport/logger.hpp>

#include <fmt/format.h>

#include <array>
#include <ostream>
#include <string_view>

namespace izypop3::app {
namespace {

namespace po = boost::program_options;

struct userclaim_names {
    static constexpr std::array<std::string_view, 2> names{"username", "sub"};
};

// Keys that only the introspection endpoint uses.
constexpr std::array<const char*, 4> introspection_only{
    "oauth2.cafile", "oauth2.clientid", "oauth2.clientsecreteval", "oauth2.userclaim"};

bool given(const po::variables_map& o, const char* key) {
    return o.count(key) && !o[key].defaulted();
}

}  // namespace

void add_oauth2_keys(po::options_description& d) {
    d.add_options()(
        "oauth2.introspect", po::value<std::string>()->value_name("URL"),
        "offer XOAUTH2 and OAUTHBEARER (where allowplaintext allows PLAIN: a token is a "
        "secret) and check each bearer token at this RFC 7662 introspection endpoint "
        "(https:// only): it must be active and belong to the login name; answers are "
        "remembered until the token's exp")(
        "oauth2.cafile", po::value<std::string>()->value_name("PATH"),
        "PEM CA certificates for the introspection endpoint's certificate; default: the "
        "system's")("oauth2.clientid", po::value<std::string>()->value_name("ID"),
                    "this server's client id at the introspection endpoint (HTTP Basic, with "
                    "oauth2.clientsecreteval)")(
        "oauth2.clientsecreteval", po::value<std::string>()->value_name("COMMAND"),
        "command that prints this server's client secret on its first line (run once at "
        "start-up, so the secret stays out of the process list)")(
        "oauth2.userclaim",
        po::value<choice<userclaim_names>>()
            ->default_value(choice<userclaim_names>{"username"})
            ->value_name("username|sub"),
        "member of the introspection answer that names the token's user")(
        "oauth2.command", po::value<std::string>()->value_name("COMMAND"),
        "instead of oauth2.introspect: offer XOAUTH2 and OAUTHBEARER and run this command "
        "(/bin/sh -c) per login with the token on stdin; exit 0 with the user name on the "
        "first line of stdout = valid, 75 = try again later, anything else = not valid")(
        "oauth2.timeout",
        po::value<seconds_value>()->default_value(seconds_value{10})->value_name("SECONDS"),
        "longest wait for one introspection request or one run of oauth2.command");
}

std::optional<transport::oauth2_options> oauth2_options_of(const po::variables_map& o,
                                                           std::ostream& err) {
    transport::oauth2_options opt;
    const bool introspect = o.count("oauth2.introspect") != 0;
    const bool command = o.count("oauth2.command") != 0;
    if (introspect && command) {
        err << "izypop3: serverpop3: oauth2.introspect and oauth2.command exclude each other; "
               "give one\n";
        return std::nullopt;
    }
    for (const char* key : introspection_only) {
        if (!introspect && given(o, key)) {
            err << fmt::format("izypop3: serverpop3: {} needs oauth2.introspect URL\n", key);
            return std::nullopt;
        }
    }
    if (!introspect && !command && given(o, "oauth2.timeout")) {
        err << "izypop3: serverpop3: oauth2.timeout needs oauth2.introspect or oauth2.command\n";
        return std::nullopt;
    }
    if (given(o, "oauth2.clientid") != given(o, "oauth2.clientsecreteval")) {
        err << "izypop3: serverpop3: oauth2.clientid and oauth2.clientsecreteval go together; "
               "give both or neither\n";
        return std::nullopt;
    }
    if (introspect) opt.introspect_url = o["oauth2.introspect"].as<std::string>();
    if (command) opt.command = o["oauth2.command"].as<std::string>();
    if (given(o, "oauth2.cafile")) opt.ca_file = o["oauth2.cafile"].as<std::string>();
    if (given(o, "oauth2.clientid")) {
        opt.client_id = o["oauth2.clientid"].as<std::string>();
        const auto& eval = o["oauth2.clientsecreteval"].as<std::string>();
        std::string why;
        auto secret = first_line_of(eval, why);
        if (!secret) {
            err << fmt::format("izypop3: serverpop3: oauth2.clientsecreteval command '{}' {}\n",
                               transport::sanitize_for_log(eval, 200), why);
            return std::nullopt;
        }
        opt.client_secret = std::move(*secret);
    }
    opt.user_claim = o["oauth2.userclaim"].as<choice<userclaim_names>>().value == "sub"
                         ? transport::token_user_claim::sub
                         : transport::token_user_claim::username;
    opt.timeout = std::chrono::seconds(o["oauth2.timeout"].as<seconds_value>().value);
    if (introspect) {
        transport::https_url url;
        std::string why;
        if (!transport::parse_https_url(opt.introspect_url, url, why)) {
            err << "izypop3: serverpop3: " << why << "\n";
            return std::nullopt;
        }
    }
    return opt;
}

}  // namespace izypop3::app
