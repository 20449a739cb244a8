// serverpop3's security keys on the command line (issue 12, items 7-9): allowplaintext
// loopback|true|false, trustedproxies, maxauthperip, logintimeout, tls.timeout. Each value
// is checked by the key's own table, and a bad one is a one-line usage error.

#include "cli/cli.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "serverpop3/server_option_types.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

namespace app = izypop3::app;
using izypop3::transport::cleartext_policy;

app::invocation parse(const std::vector<std::string>& tokens) {
    const app::method_entry* m = app::find_method("serverpop3");
    EXPECT_NE(m, nullptr);
    auto inv = app::parse_method_args(*m, tokens);
    EXPECT_TRUE(inv.has_value());
    return std::move(*inv);
}

std::string usage_error(std::vector<std::string> args) {
    std::ostringstream out, err;
    args.insert(args.begin(), {"method", "serverpop3"});
    EXPECT_EQ(app::run_cli(args, out, err), 2);
    EXPECT_EQ(out.str(), "");
    return err.str();
}

const std::string hint = "; run 'izypop3 method serverpop3 help' for the list\n";

TEST(ServerOptions, AllowPlaintextTakesLoopbackOrABoolean) {
    EXPECT_EQ(parse({}).options["allowplaintext"].as<app::plaintext_policy>().value,
              cleartext_policy::loopback);
    const std::vector<std::pair<std::string, cleartext_policy>> words{
        {"loopback", cleartext_policy::loopback}, {"true", cleartext_policy::always},
        {"yes", cleartext_policy::always},        {"1", cleartext_policy::always},
        {"false", cleartext_policy::never},       {"off", cleartext_policy::never},
        {"NO", cleartext_policy::never}};
    for (const auto& [word, policy] : words)
        EXPECT_EQ(parse({"allowplaintext", word})
                      .options["allowplaintext"]
                      .as<app::plaintext_policy>()
                      .value,
                  policy)
            << word;
    EXPECT_EQ(usage_error({"allowplaintext", "local"}),
              "izypop3: serverpop3: key 'allowplaintext' wants loopback, true or false (also "
              "yes/no, on/off, 1/0), got 'local'" +
                  hint);
}

TEST(ServerOptions, TrustedProxiesAreNetworksCommaSeparatedOrRepeated) {
    const auto inv = parse({"trustedproxies", "127.0.0.1/32,10.0.0.0/8", "trustedproxies",
                            "2001:db8::/32", "trustedproxies", "192.0.2.7"});
    const auto& n = inv.options["trustedproxies"].as<app::network_list>().networks;
    std::vector<std::string> texts;
    for (const auto& x : n) texts.push_back(x.to_string());
    EXPECT_EQ(texts, (std::vector<std::string>{"127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32",
                                               "192.0.2.7/32"}));
    EXPECT_EQ(usage_error({"trustedproxies", "127.0.0.1/32,haproxy"}),
              "izypop3: serverpop3: key 'trustedproxies' wants ADDRESS/PREFIX[,ADDRESS/PREFIX...] "
              "such as 127.0.0.1/32 or 10.0.0.0/8; 'haproxy' is not an address with an optional "
              "/PREFIX" +
                  hint);
    EXPECT_EQ(usage_error({"trustedproxies", "10.0.0.0/33"}),
              "izypop3: serverpop3: key 'trustedproxies' wants ADDRESS/PREFIX[,ADDRESS/PREFIX...] "
              "such as 127.0.0.1/32 or 10.0.0.0/8; '10.0.0.0/33' is not an address with an "
              "optional /PREFIX" +
                  hint);
}

TEST(ServerOptions, TimeoutsAndTheAuthWorkBound) {
    const auto inv = parse({"logintimeout", "5", "tls.timeout", "7", "maxauthperip", "1"});
    EXPECT_EQ(inv.options["logintimeout"].as<app::seconds_value>().value, 5u);
    EXPECT_EQ(inv.options["tls.timeout"].as<app::seconds_value>().value, 7u);
    EXPECT_EQ((inv.options["maxauthperip"].as<app::whole_number<1, 1000>>().value), 1u);
    EXPECT_EQ(usage_error({"maxauthperip", "0"}),
              "izypop3: serverpop3: key 'maxauthperip' wants a whole number from 1 to 1000, got "
              "'0'" +
                  hint);
    EXPECT_EQ(usage_error({"logintimeout", "0"}),
              "izypop3: serverpop3: key 'logintimeout' wants a whole number from 1 to 604800, "
              "got '0'" +
                  hint);
}

}  // namespace
