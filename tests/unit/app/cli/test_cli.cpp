#include "cli/cli.hpp"
#include "cli/help.hpp"
#include "cli/key_scope.hpp"
#include "common/json.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "querystore/query_report.hpp"
#include "serverpop3/server_option_types.hpp"
#include "cli/suggest.hpp"

#include <izypop3/store/fake_store.hpp>

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <chrono>

#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

namespace app = izypop3::app;

struct outcome {
    int code = -1;
    std::string out;
    std::string err;
};

outcome run(std::vector<std::string> args) {
    std::ostringstream out;
    std::ostringstream err;
    outcome o;
    o.code = app::run_cli(args, out, err);
    o.out = out.str();
    o.err = err.str();
    return o;
}

/// Expects exit code 2, nothing on stdout and exactly `line` (plus a newline) on stderr.
void expect_usage_error(const std::vector<std::string>& args, const std::string& line) {
    const outcome o = run(args);
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err, line + "\n");
}

/// Parses `tokens` for `method`, which must be valid.
app::invocation parse(std::string_view method, const std::vector<std::string>& tokens) {
    const app::method_entry* m = app::find_method(method);
    EXPECT_NE(m, nullptr);
    auto inv = app::parse_method_args(*m, tokens);
    EXPECT_TRUE(inv.has_value());
    return std::move(*inv);
}

const std::string server_hint = "run 'izypop3 method serverpop3 help' for the list";
const std::string client_hint = "run 'izypop3 method clientpop3 help' for the list";

// ---- key errors ------------------------------------------------------------------------

TEST(cli, unknown_key_suggests_the_nearest_key) {
    expect_usage_error({"method", "serverpop3", "port", "1110", "pasword", "12345"},
                       "izypop3: serverpop3: unknown key 'pasword' (did you mean 'password'?); " +
                           server_hint);
    expect_usage_error({"method", "serverpop3", "--prot=1110"},
                       "izypop3: serverpop3: unknown key 'prot' (did you mean 'port'?); " +
                           server_hint);
    // A prefix of a key counts as close.
    expect_usage_error({"method", "serverpop3", "allowplain", "true"},
                       "izypop3: serverpop3: unknown key 'allowplain' (did you mean "
                       "'allowplaintext'?); " + server_hint);
    // Dotted keys and their case.
    expect_usage_error({"method", "clientpop3", "verbose.clientlog", "true"},
                       "izypop3: clientpop3: unknown key 'verbose.clientlog' (did you mean "
                       "'verbose.clientLog'?); " + client_hint);
    // Nothing close: no suggestion.
    expect_usage_error({"method", "serverpop3", "zzzzzz", "1"},
                       "izypop3: serverpop3: unknown key 'zzzzzz'; " + server_hint);
    // A key of another method is refused here, saying whose it is.
    expect_usage_error({"method", "querystore", "password", "x"},
                       "izypop3: querystore: key 'password' belongs to serverpop3, not to "
                       "querystore; run 'izypop3 method querystore help' for the list");
    expect_usage_error({"method", "serverpop3", "verbose.clientLog", "true"},
                       "izypop3: serverpop3: key 'verbose.clientLog' belongs to clientpop3, "
                       "test, not to serverpop3; " +
                           server_hint);
}

TEST(cli, key_written_with_an_equals_sign_gets_the_right_spelling) {
    expect_usage_error({"method", "serverpop3", "port=1110", "x"},
                       "izypop3: serverpop3: unknown key 'port=1110'; write 'port 1110' or "
                       "'--port=1110'");
}

TEST(cli, missing_values_are_named) {
    expect_usage_error({"method", "serverpop3", "port"},
                       "izypop3: serverpop3: key 'port' has no value; keys and values come in "
                       "pairs, write 'port VALUE'");
    expect_usage_error({"method", "serverpop3", "port", "1110", "password"},
                       "izypop3: serverpop3: key 'password' has no value; keys and values come "
                       "in pairs, write 'password VALUE'");
    // The original README's own example: the value of verbose.clientLog is missing.
    expect_usage_error({"method", "clientpop3", "tls", "true", "verbose.clientLog", "cmd", "list"},
                       "izypop3: clientpop3: key 'list' has no value; keys and values come in "
                       "pairs, write 'list VALUE' ('verbose.clientLog' took the key 'cmd' as its "
                       "value: is the value of 'verbose.clientLog' missing?)");
    expect_usage_error({"method", "serverpop3", "--port"},
                       "izypop3: serverpop3: key 'port' has no value; write '--port VALUE' or "
                       "'--port=VALUE'");
    expect_usage_error({"method", "clientpop3", "--tls", "--port", "995"},
                       "izypop3: clientpop3: key 'tls' has no value (the next token, '--port', "
                       "is a key); write '--tls VALUE' or '--tls=VALUE'");
    expect_usage_error({"method", "serverpop3", "--=5"},
                       "izypop3: serverpop3: empty key name before value '5'; " + server_hint);
}

TEST(cli, repeated_keys_are_refused) {
    expect_usage_error({"method", "serverpop3", "port", "1110", "port", "1111"},
                       "izypop3: serverpop3: key 'port' is given twice ('1110' and '1111'); "
                       "give it once");
    expect_usage_error({"method", "serverpop3", "--port", "1110", "--port=1110"},
                       "izypop3: serverpop3: key 'port' is given twice ('1110' and '1110'); "
                       "give it once");
    expect_usage_error({"method", "test", "mimestore.count", "1", "mimestore.count", "2"},
                       "izypop3: test: key 'mimestore.count' is given twice ('1' and '2'); "
                       "give it once");
}

// ---- value errors ----------------------------------------------------------------------

TEST(cli, ports_must_be_numbers_from_1_to_65535) {
    const std::string tail = "; " + server_hint;
    expect_usage_error({"method", "serverpop3", "port", "abc"},
                       "izypop3: serverpop3: key 'port' wants a port number from 1 to 65535, "
                       "got 'abc'" + tail);
    expect_usage_error({"method", "serverpop3", "port", "70000"},
                       "izypop3: serverpop3: key 'port' wants a port number from 1 to 65535, "
                       "got '70000'" + tail);
    expect_usage_error({"method", "serverpop3", "port", "0"},
                       "izypop3: serverpop3: key 'port' wants a port number from 1 to 65535, "
                       "got '0'" + tail);
    for (const char* bad : {"-1", "+5", " 5", "5 ", "1e3", "", "99999999999999999999999"}) {
        const outcome o = run({"method", "serverpop3", "port", bad});
        EXPECT_EQ(o.code, 2) << bad;
    }
    // tlsport documents 0 as "off".
    expect_usage_error({"method", "serverpop3", "tlsport", "65536"},
                       "izypop3: serverpop3: key 'tlsport' wants a port number from 0 to 65535, "
                       "got '65536'" + tail);
    const auto inv = parse("serverpop3", {"port", "65535", "tlsport", "0"});
    EXPECT_EQ(inv.options["port"].as<app::port_number>().value, 65535);
    EXPECT_EQ(inv.options["tlsport"].as<app::port_or_zero>().value, 0);
}

TEST(cli, numbers_are_checked_against_their_range) {
    expect_usage_error({"method", "serverpop3", "timeout", "0"},
                       "izypop3: serverpop3: key 'timeout' wants a whole number from 1 to 604800, "
                       "got '0'; " + server_hint);
    expect_usage_error({"method", "test", "query.limit", "-2"},
                       "izypop3: test: key 'query.limit' wants a whole number from 0 to "
                       "4294967295, got '-2'; run 'izypop3 method test help' for the list");
    const auto inv = parse("clientpop3", {"maxsize", "18446744073709551615"});
    EXPECT_EQ(inv.options["maxsize"].as<app::size_value>().value, 18446744073709551615u);
    EXPECT_EQ(run({"method", "clientpop3", "maxsize", "18446744073709551616"}).code, 2);
}

TEST(cli, booleans_accept_the_usual_words) {
    expect_usage_error({"method", "clientpop3", "tls", "maybe"},
                       "izypop3: clientpop3: key 'tls' wants true or false (also yes/no, on/off, "
                       "1/0), got 'maybe'; " + client_hint);
    const std::vector<std::pair<std::string, bool>> words{
        {"true", true}, {"yes", true}, {"on", true},  {"1", true},    {"TRUE", true},
        {"false", false}, {"no", false}, {"off", false}, {"0", false}, {"Off", false}};
    for (const auto& [word, value] : words) {
        const auto inv = parse("clientpop3", {"tls", word});
        EXPECT_EQ(inv.options["tls"].as<app::flag>().value, value) << word;
    }
}

TEST(cli, enumerations_list_their_values) {
    expect_usage_error({"method", "clientpop3", "format", "xml"},
                       "izypop3: clientpop3: key 'format' wants one of text|json, got 'xml'; " +
                           client_hint);
    expect_usage_error({"method", "clientpop3", "auth", "cram_md5"},
                       "izypop3: clientpop3: key 'auth' wants one of auto|user|apop|plain|login|"
                       "cram-md5|scram-sha-1|scram-sha-256|xoauth2|oauthbearer, got 'cram_md5' "
                       "(did you mean 'cram-md5'?); " + client_hint);
    expect_usage_error({"method", "test", "testtype", "fullclient"},
                       "izypop3: test: key 'testtype' wants one of mimestore|fullclientserver|"
                       "load, got 'fullclient' (did you mean 'fullclientserver'?); run 'izypop3 "
                       "method test help' for the list");
    expect_usage_error({"method", "serverpop3", "loglevel", "verbose"},
                       "izypop3: serverpop3: key 'loglevel' wants one of error|warn|info|debug, "
                       "got 'verbose'; " + server_hint);
}

TEST(cli, values_are_escaped_in_error_messages) {
    expect_usage_error({"method", "serverpop3", "port", "\x1b[31m1\n"},
                       "izypop3: serverpop3: key 'port' wants a port number from 1 to 65535, "
                       "got '\\x1B[31m1\\n'; " + server_hint);
}

// ---- accepted forms ----------------------------------------------------------------------

TEST(cli, defaults_fill_every_key_that_has_one) {
    const auto inv = parse("serverpop3", {});
    EXPECT_EQ(inv.method, "serverpop3");
    EXPECT_EQ(inv.options["host"].as<std::string>(), "::");
    EXPECT_EQ(inv.options["port"].as<app::port_number>().value, 110);
    EXPECT_EQ(inv.options["timeout"].as<app::seconds_value>().value, 600u);
    EXPECT_EQ(inv.options["maxconnections"].as<app::count_value>().value, 10000u);
    EXPECT_EQ(inv.options["maxperip"].as<app::count_value>().value, 50u);
    EXPECT_EQ(inv.options["threads"].as<app::count_value>().value, 0u);
    EXPECT_EQ(inv.options["allowplaintext"].as<app::plaintext_policy>().value,
              izypop3::transport::cleartext_policy::loopback);
    EXPECT_EQ(inv.options["logintimeout"].as<app::seconds_value>().value, 60u);
    EXPECT_EQ(inv.options["tls.timeout"].as<app::seconds_value>().value, 30u);
    EXPECT_EQ((inv.options["maxauthperip"].as<app::whole_number<1, 1000>>().value), 2u);
    EXPECT_EQ(inv.options.count("trustedproxies"), 0u);
    EXPECT_EQ(inv.options["loglevel"].as<app::choice<app::loglevel_names>>().value, "info");
    EXPECT_EQ(inv.options.count("password"), 0u);
    EXPECT_EQ(inv.store.modhandler, "fake");
    EXPECT_TRUE(inv.store.settings.empty());
}

TEST(cli, the_original_form_and_both_gnu_forms_mean_the_same) {
    for (const auto& tokens : std::vector<std::vector<std::string>>{
             {"port", "1110", "password", "12345", "mimestore.modhandler", "fake"},
             {"--port", "1110", "--password", "12345", "--mimestore.modhandler", "fake"},
             {"--port=1110", "--password=12345", "--mimestore.modhandler=fake"},
             {"port", "1110", "--password=12345", "--mimestore.modhandler", "fake"}}) {
        const auto inv = parse("serverpop3", tokens);
        EXPECT_EQ(inv.options["port"].as<app::port_number>().value, 1110);
        EXPECT_EQ(inv.options["password"].as<std::string>(), "12345");
        EXPECT_EQ(inv.store.modhandler, "fake");
    }
}

TEST(cli, values_may_contain_anything) {
    auto inv = parse("clientpop3", {"--pass=a=b c", "user", "--weird"});
    EXPECT_EQ(inv.options["pass"].as<std::string>(), "a=b c");
    EXPECT_EQ(inv.options["user"].as<std::string>(), "--weird");
    inv = parse("clientpop3", {"pass", "", "--user="});
    EXPECT_EQ(inv.options["pass"].as<std::string>(), "");
    EXPECT_EQ(inv.options["user"].as<std::string>(), "");
}

TEST(cli, dotted_keys_are_ordinary_keys) {
    const auto inv = parse("test", {"verbose.clientLog", "true", "query.limit", "2",
                                    "verbose.serverLog", "yes", "mimestore.count", "5"});
    EXPECT_TRUE(inv.options["verbose.clientLog"].as<app::flag>().value);
    EXPECT_TRUE(inv.options["verbose.serverLog"].as<app::flag>().value);
    EXPECT_FALSE(inv.options["verbose.waitTime"].as<app::flag>().value);
    EXPECT_EQ(inv.options["query.limit"].as<app::count_value>().value, 2u);
    EXPECT_EQ(inv.store.settings.at("count"), "5");
}

TEST(cli, query_tags_may_repeat_and_split_at_commas) {
    const auto inv = parse("test", {"query.tags", "a,b", "query.tags", " c , a,,", "--query.tags=d"});
    EXPECT_EQ(app::split_tags(inv.options["query.tags"].as<std::vector<std::string>>()),
              (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_TRUE(app::split_tags({""}).empty());
}

// ---- mimestore.* -------------------------------------------------------------------------

TEST(cli, store_keys_are_checked_against_the_chosen_store) {
    expect_usage_error({"method", "test", "mimestore.cout", "5"},
                       "izypop3: test: unknown key 'mimestore.cout' for mimestore.modhandler fake "
                       "(did you mean 'mimestore.count'?); run 'izypop3 method test help' for "
                       "the list");
    expect_usage_error({"method", "serverpop3", "mimestore.path", "/tmp"},
                       "izypop3: serverpop3: unknown key 'mimestore.path' for "
                       "mimestore.modhandler fake; " + server_hint);
    // The store checks its own values; the message names the key.
    const outcome o = run({"method", "test", "mimestore.count", "lots"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.out, "");
    EXPECT_NE(o.err.find("mimestore.count"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("'lots'"), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;
}

TEST(cli, unknown_stores_and_missing_store_settings) {
    expect_usage_error({"method", "test", "mimestore.modhandler", "fak"},
                       "izypop3: test: key 'mimestore.modhandler' names no known store: 'fak' "
                       "(did you mean 'fake'?); use one of fake, localfs, maildir, postgres, "
                       "cloud");
    const outcome o = run({"method", "test", "mimestore.modhandler", "localfs"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err, "izypop3: test: mimestore.modhandler localfs needs mimestore.path: the "
                     "directory of the store, e.g. mimestore.path /srv/mail/%u; run 'izypop3 "
                     "method test help' for the list\n");
}

// ---- help, usage, methods ----------------------------------------------------------------

TEST(cli, usage_lists_the_methods) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"help"}, {"--help"}, {"-h"}}) {
        const outcome o = run(args);
        EXPECT_EQ(o.code, 0);
        EXPECT_EQ(o.err, "");
        EXPECT_TRUE(o.out.starts_with("izypop3 0.1.0: POP3 server, client and message-store "
                                      "toolkit\n\nusage: izypop3 method NAME [key value]...\n"))
            << o.out;
        for (const auto& m : app::method_table()) {
            EXPECT_NE(o.out.find(fmt::format("\n  {:<10}  {}\n", m.name, m.summary)),
                      std::string::npos)
                << m.name;
        }
    }
    const outcome none = run({});
    EXPECT_EQ(none.code, 2);
    EXPECT_EQ(none.out, "");
    EXPECT_EQ(none.err, run({"help"}).out);
}

TEST(cli, unknown_method_suggests_one_and_lists_them) {
    const outcome o = run({"method", "serverpop", "port", "1"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err, "izypop3: unknown method 'serverpop' (did you mean 'serverpop3'?); the "
                     "methods are listed below\n\n" + run({"help"}).out);
    const outcome missing = run({"method"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_TRUE(missing.err.starts_with("izypop3: missing method name after 'method'")) << missing.err;
    expect_usage_error({"serverpop3", "port", "1"},
                       "izypop3: the method name follows the word 'method': write 'izypop3 "
                       "method serverpop3 ...'");
    expect_usage_error({"methd", "test"},
                       "izypop3: unknown command 'methd' (did you mean 'method'?); run 'izypop3 "
                       "help' for usage");
    expect_usage_error({"help", "servrpop3"},
                       "izypop3: help: unknown topic 'servrpop3' (did you mean 'serverpop3'?); "
                       "write 'izypop3 help', 'izypop3 help markdown' or 'izypop3 help NAME'");
    expect_usage_error({"help", "serverpop3", "port"},
                       "izypop3: help takes one topic; write 'izypop3 help', 'izypop3 help "
                       "markdown' or 'izypop3 help NAME'");
}

TEST(cli, method_help_lists_keys_with_defaults) {
    const outcome o = run({"method", "serverpop3", "help"});
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.err, "");
    EXPECT_TRUE(o.out.starts_with("izypop3 method serverpop3: serve a message store to POP3 "
                                  "clients\n"))
        << o.out;
    for (const char* line : {
             "\n  port PORT  (default: 110)\n      TCP port for plain POP3; STLS (RFC 2595) is offered "
             "only with a certificate",
             "\n  host ADDRESS  (default: ::)\n",
             "\n  tlsport PORT  (default: 0)\n",
             "\n  password TEXT\n      demo mode:",
             "\n  hostname NAME  (default: <machine name>)\n",
             "\n  loglevel error|warn|info|debug  (default: info)\n",
             "\n  verbose.serverLog BOOL  (default: false)\n",
             "\n  mimestore.modhandler NAME  (default: fake)\n",
             "\n      stores: fake, localfs, maildir, postgres, cloud\n",
             "\nkeys of mimestore.modhandler fake:\n  mimestore.count  (default: 99)\n"}) {
        EXPECT_NE(o.out.find(line), std::string::npos) << line;
    }
    // Every spelling of help, also after some keys, and `izypop3 help NAME`.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"method", "serverpop3", "--help"},
             {"method", "serverpop3", "-h"},
             {"method", "serverpop3", "port", "1110", "help"},
             {"help", "serverpop3"}}) {
        const outcome again = run(args);
        EXPECT_EQ(again.code, 0);
        EXPECT_EQ(again.out, o.out);
    }
    // "help" in a value position is a value.
    EXPECT_EQ(run({"method", "serverpop3", "port", "help"}).code, 2);
}

TEST(cli, every_method_help_and_the_markdown_name_every_key) {
    const std::string markdown = run({"help", "markdown"}).out;
    ASSERT_TRUE(markdown.starts_with("# izypop3 command line reference\n"));
    for (const auto& m : app::method_table()) {
        const outcome o = run({"method", std::string(m.name), "help"});
        ASSERT_EQ(o.code, 0);
        EXPECT_NE(markdown.find(fmt::format("\n## `method {}`\n", m.name)), std::string::npos);
        auto all = app::all_options(m);
        for (const auto& row : app::rows_of(all)) {
            EXPECT_NE(o.out.find("\n  " + row.key + " "), std::string::npos) << row.key;
            EXPECT_NE(markdown.find("| `" + row.key + "` |"), std::string::npos) << row.key;
        }
    }
    EXPECT_NE(markdown.find("| `port` | `PORT` | `110` | TCP port for plain POP3; STLS (RFC "
                            "2595) is offered only with a certificate"),
              std::string::npos);
    EXPECT_NE(markdown.find("| `format` | `text\\|json` | `text` | output format |\n"),
              std::string::npos);
    EXPECT_NE(markdown.find("| `password` | `TEXT` | none | "), std::string::npos);
}

TEST(cli, version) {
    const outcome o = run({"--version"});
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.out, "izypop3 0.1.0\n");
}

TEST(cli, a_bad_key_is_a_usage_error_before_anything_runs) {
    EXPECT_EQ(run({"method", "serverpop3", "port", "abc"}).code, 2);
}

TEST(cli, serverpop3_oauth2_keys_that_do_not_go_together) {
    const std::string p = "izypop3: serverpop3: ";
    auto o = run({"method", "serverpop3", "oauth2.introspect", "https://a/i", "oauth2.command",
                  "true"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.introspect and oauth2.command exclude each other; give one\n");
    o = run({"method", "serverpop3", "password", "x", "oauth2.cafile", "/ca.pem"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.cafile needs oauth2.introspect URL\n");
    o = run({"method", "serverpop3", "oauth2.command", "cat", "oauth2.userclaim", "sub"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.userclaim needs oauth2.introspect URL\n");
    o = run({"method", "serverpop3", "password", "x", "oauth2.timeout", "5"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.timeout needs oauth2.introspect or oauth2.command\n");
    o = run({"method", "serverpop3", "oauth2.introspect", "https://a/i", "oauth2.clientid", "me"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.clientid and oauth2.clientsecreteval go together; give both or "
                         "neither\n");
    o = run({"method", "serverpop3", "oauth2.introspect", "http://a/i"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.introspect 'http://a/i' is not an https:// URL; the token "
                         "travels in it\n");
    o = run({"method", "serverpop3", "oauth2.introspect", "https://a:99999/i"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.introspect 'https://a:99999/i': the port must be 1 to 65535\n");
    o = run({"method", "serverpop3", "oauth2.introspect", "https://a/i", "oauth2.clientid", "me",
             "oauth2.clientsecreteval", "exit 3"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, p + "oauth2.clientsecreteval command 'exit 3' exited with status 3; nothing "
                         "it printed was used, run it by hand to see why\n");
    o = run({"method", "serverpop3", "oauth2.userclaim", "email"});
    EXPECT_EQ(o.code, 2);
}

TEST(cli, serverpop3_needs_credentials_and_a_usable_store) {
    // Each fails before anything listens, so no test here can hang on a running server.
    auto o = run({"method", "serverpop3", "port", "1110"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err,
              "izypop3: serverpop3: no credentials; give 'users FILE' (a Dovecot passwd-file), "
              "'password TEXT' (any user name, one password), e.g. password 12345, or "
              "oauth2.introspect/oauth2.command for bearer tokens\n");
    o = run({"method", "serverpop3", "port", "1110", "password", "x", "tls.cert", "/c.pem"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, "izypop3: serverpop3: tls.cert and tls.key go together; give both or neither\n");
    o = run({"method", "serverpop3", "password", "x", "mimestore.modhandler", "localfs"});
    EXPECT_EQ(o.code, 2);
    EXPECT_EQ(o.err, "izypop3: serverpop3: mimestore.modhandler localfs needs mimestore.path: "
                     "the directory of the store, e.g. mimestore.path /srv/mail/%u; run "
                     "'izypop3 method serverpop3 help' for the list\n");
    o = run({"method", "serverpop3", "host", "not-an-address", "port", "1110", "password", "x"});
    EXPECT_EQ(o.code, 1);
    EXPECT_EQ(o.err,
              "izypop3: serverpop3: host 'not-an-address' is not an IP address; use e.g. :: "
              "(all), 0.0.0.0 or 127.0.0.1\n");
}

// ---- test testtype mimestore -------------------------------------------------------------

TEST(cli, mimestore_query_without_a_match_explains_why) {
    const outcome o = run({"method", "test", "testtype", "mimestore", "mimestore.modhandler",
                           "fake", "query.limit", "2", "query.tags", "abc"});
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.err, "");
    EXPECT_EQ(o.out, "store fake: 0 items match tags [abc] (0 octets); showing 0\n"
                     "no item carries every tag in [abc]; the fake store's items are tagged "
                     "'unread'\n");
}

TEST(cli, mimestore_query_lists_items_aligned) {
    izypop3::store::fake_store_options opts;
    opts.count = 12;
    izypop3::store::fake_store reference(opts);
    izypop3::store::query_options q;
    q.tags = {"unread"};
    q.limit = 3;
    q.order_by = izypop3::store::query_options::order::desc;
    const auto r = reference.query(q);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->items.size(), 3u);
    std::size_t width = 0;
    for (const auto& it : r->items) width = std::max(width, fmt::formatted_size("{}", it.size));

    std::string expected = fmt::format(
        "store fake: 12 items match tags [unread] ({} octets); showing 3\n", r->total_size);
    for (const auto& it : r->items) {
        expected += fmt::format("{:<7}  {:>{}} octets  tags=unread\n", it.guid, it.size, width);
    }
    EXPECT_EQ(expected.substr(expected.find('\n') + 1, 7), "guid_12");

    const outcome o = run({"method", "test", "mimestore.count", "12", "query.tags", "unread",
                           "query.limit", "3", "query.order", "desc"});
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.err, "");
    EXPECT_EQ(o.out, expected);
}

TEST(cli, mimestore_query_without_tags_and_of_an_empty_store) {
    outcome o = run({"method", "test", "mimestore.count", "1", "query.limit", "0"});
    EXPECT_EQ(o.code, 0);
    EXPECT_TRUE(o.out.starts_with("store fake: 1 item (")) << o.out;
    EXPECT_TRUE(o.out.ends_with(" octets); showing 0\n")) << o.out;

    o = run({"method", "test", "mimestore.count", "0", "query.tags", "a,b"});
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.out, "store fake: 0 items match tags [a, b] (0 octets); showing 0\n"
                     "no item carries every tag in [a, b]; the fake store is empty\n");
}

TEST(cli, mimestore_query_as_json) {
    const outcome o = run({"method", "test", "mimestore.count", "3", "query.limit", "1",
                           "query.tags", "unread", "format", "json"});
    EXPECT_EQ(o.code, 0);
    izypop3::store::fake_store_options opts;
    opts.count = 3;
    izypop3::store::fake_store reference(opts);
    izypop3::store::query_options q;
    q.limit = 1;
    const auto r = reference.query(q);
    ASSERT_TRUE(r.has_value());
    const auto& it = r->items.at(0);
    EXPECT_EQ(o.out, fmt::format(R"({{"store":"fake","tags":["unread"],"limit":1,"count":3,)"
                                 R"("totalSize":{},"items":[{{"guid":"guid_1","size":{},)"
                                 R"("tags":["unread"],"sourceId":"fake","created":"{}"}}]}})"
                                 "\n",
                                 r->total_size, it.size, app::iso8601_utc(it.created)));
}

// ---- helpers -----------------------------------------------------------------------------

// What `format json` prints for a string: json_string()'s value as Boost.JSON writes it.
std::string json_text(std::string_view text) {
    return boost::json::serialize(app::json_string(text));
}

TEST(json_string, keeps_utf8_and_replaces_each_octet_that_is_not) {
    EXPECT_EQ(app::json_string("plain"), "plain");
    EXPECT_EQ(app::json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7");
    EXPECT_EQ(app::json_string(std::string_view("a\0b", 3)), std::string_view("a\0b", 3));
    // Not UTF-8: a Latin-1 byte, an overlong '/', a surrogate, a truncated sequence.
    EXPECT_EQ(app::json_string("\xe9t\xc3"), "\xef\xbf\xbdt\xef\xbf\xbd");
    EXPECT_EQ(app::json_string("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(app::json_string("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(app::json_string("\xf4\x90\x80\x80"),  // past U+10FFFF
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(json_string, printed_with_the_escapes_json_requires) {
    EXPECT_EQ(json_text("plain"), "\"plain\"");
    EXPECT_EQ(json_text("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
    EXPECT_EQ(json_text("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
    EXPECT_EQ(json_text(std::string_view("\0\x1f", 2)), "\"\\u0000\\u001f\"");
    EXPECT_EQ(json_text("caf\xc3\xa9 \xe9"), "\"caf\xc3\xa9 \xef\xbf\xbd\"");
}

TEST(json_strings, an_array_of_json_strings) {
    EXPECT_EQ(boost::json::serialize(app::json_strings({"a", "b\"", "\xff"})),
              "[\"a\",\"b\\\"\",\"\xef\xbf\xbd\"]");
    EXPECT_EQ(boost::json::serialize(app::json_strings({})), "[]");
}

TEST(json_rounded, keeps_the_decimals_asked_for) {
    EXPECT_EQ(app::json_rounded(1.23456, 3), 1.235);
    EXPECT_EQ(app::json_rounded(158.1749, 2), 158.17);
    EXPECT_EQ(app::json_rounded(0.0004, 3), 0.0);
    EXPECT_EQ(app::json_rounded(2.0, 2), 2.0);
}

TEST(iso8601_utc, whole_seconds_in_utc) {
    using namespace std::chrono;
    EXPECT_EQ(app::iso8601_utc(system_clock::time_point{}), "1970-01-01T00:00:00Z");
    EXPECT_EQ(app::iso8601_utc(system_clock::time_point{seconds{1700000000} + milliseconds{999}}),
              "2023-11-14T22:13:20Z");
}

TEST(suggest, edit_distance_counts_transpositions_once) {
    EXPECT_EQ(app::edit_distance("port", "port"), 0u);
    EXPECT_EQ(app::edit_distance("prot", "port"), 1u);
    EXPECT_EQ(app::edit_distance("pasword", "password"), 1u);
    EXPECT_EQ(app::edit_distance("PORT", "port"), 0u);
    EXPECT_EQ(app::edit_distance("", "abc"), 3u);
    EXPECT_EQ(app::edit_distance("kitten", "sitting"), 3u);
    const std::vector<std::string_view> keys{"ip", "port", "pass", "user"};
    EXPECT_EQ(app::suggest("prot", keys), "port");
    EXPECT_EQ(app::suggest("usr", keys), "user");
    EXPECT_FALSE(app::suggest("id", keys).has_value());  // too short to guess
    EXPECT_FALSE(app::suggest("hostname", keys).has_value());
}

}  // namespace

namespace {

TEST(cli, logger_follows_loglevel_and_verbose_keys) {
    std::vector<std::string> lines;
    const auto sink = [&lines](izypop3::transport::log_level, std::string_view line) {
        lines.emplace_back(line);
    };
    auto inv = parse("serverpop3", {});
    auto log = app::logger_for(inv, sink);
    EXPECT_EQ(log.level(), izypop3::transport::log_level::info);
    EXPECT_FALSE(log.transcript_server());
    EXPECT_FALSE(log.transcript_client());

    inv = parse("serverpop3", {"loglevel", "debug", "verbose.serverLog", "true"});
    log = app::logger_for(inv, sink);
    EXPECT_EQ(log.level(), izypop3::transport::log_level::debug);
    EXPECT_TRUE(log.transcript_server());
    EXPECT_FALSE(log.transcript_client());
    log.server_transcript('>', "+OK POP3 Server ready\r\n");
    log.debug("d");
    EXPECT_EQ(lines, (std::vector<std::string>{"[SERVER] > +OK POP3 Server ready", "d"}));

    inv = parse("clientpop3", {"loglevel", "error", "verbose.clientLog", "on"});
    log = app::logger_for(inv, sink);
    EXPECT_EQ(log.level(), izypop3::transport::log_level::error);
    EXPECT_TRUE(log.transcript_client());
    EXPECT_FALSE(log.wait_time());

    lines.clear();
    inv = parse("clientpop3", {"verbose.waitTime", "yes"});
    log = app::logger_for(inv, sink);
    EXPECT_TRUE(log.wait_time());
    EXPECT_FALSE(log.transcript_client());
    log.client_wait("the greeting", std::chrono::microseconds(12345));
    log.server_wait("a command", std::chrono::milliseconds(2));
    EXPECT_EQ(lines, (std::vector<std::string>{"[CLIENT] waited 12.3 ms for the greeting",
                                               "[SERVER] waited 2.0 ms for a command"}));
}

TEST(cli, each_method_offers_the_logging_keys_that_do_something_in_it) {
    auto keys_of = [](std::string_view method) {
        std::vector<std::string> keys;
        const auto table = app::logging_options(*app::find_method(method));
        for (const auto& o : table.options()) keys.push_back(o->long_name());
        return keys;
    };
    using keys = std::vector<std::string>;
    EXPECT_EQ(keys_of("serverpop3"), (keys{"verbose.serverLog", "verbose.waitTime", "loglevel"}));
    EXPECT_EQ(keys_of("clientpop3"), (keys{"verbose.clientLog", "verbose.waitTime", "loglevel"}));
    EXPECT_EQ(keys_of("test"),
              (keys{"verbose.serverLog", "verbose.clientLog", "verbose.waitTime", "loglevel"}));
    EXPECT_EQ(keys_of("querystore"), (keys{"loglevel"}));
}

// A key given where it does nothing is refused before anything runs (key_scope.cpp); the
// same key where it applies, or left at its default, is not.
TEST(key_scope, refuses_keys_given_where_they_do_nothing) {
    expect_usage_error({"method", "clientpop3", "ip", "h", "cmd", "dele", "delete", "false"},
                       "izypop3: clientpop3: delete does nothing with cmd dele; it applies to "
                       "cmd retr (delete each message once it is stored); cmd dele deletes "
                       "every message query names");
    expect_usage_error({"method", "clientpop3", "ip", "h", "cmd", "dele", "query", "new"},
                       "izypop3: clientpop3: query new with cmd dele would delete every message "
                       "not backed up yet; to back up and then delete, use cmd retr query new "
                       "delete true; to delete named messages, use query N-M or query.id");
    expect_usage_error({"method", "clientpop3", "ip", "h", "cmd", "retr", "delete", "true"},
                       "izypop3: clientpop3: delete true with mimestore.modhandler fake would "
                       "delete mail kept nowhere (the fake store lives in memory and is gone at "
                       "exit); name a store that keeps it: mimestore.modhandler localfs, "
                       "maildir or postgres");
    expect_usage_error({"method", "test", "testtype", "mimestore", "clients", "3"},
                       "izypop3: test: clients does nothing in testtype mimestore; it applies "
                       "to testtype load");
    expect_usage_error({"method", "querystore", "mimestore.commitmode", "archive"},
                       "izypop3: querystore: mimestore.commitmode does nothing in method "
                       "querystore; it applies to maildrops served over POP3, where QUIT "
                       "removes or archives what was deleted: serverpop3, test "
                       "fullclientserver, test load without ip");
}

TEST(key_scope, accepts_keys_where_they_apply_and_defaults_everywhere) {
    const auto ok = [](std::string_view method, const std::vector<std::string>& tokens) {
        return app::idle_key(parse(method, tokens));
    };
    EXPECT_EQ(ok("clientpop3", {"ip", "h", "cmd", "retr", "delete", "true",
                                "mimestore.modhandler", "localfs", "mimestore.path", "/tmp/x"}),
              std::nullopt);
    EXPECT_EQ(ok("clientpop3", {"ip", "h", "cmd", "top", "lines", "3", "maxsize", "100"}),
              std::nullopt);
    EXPECT_EQ(ok("clientpop3", {"ip", "h", "cmd", "stat"}), std::nullopt);
    EXPECT_EQ(ok("test", {"testtype", "load", "mimestore.count", "3", "clients", "2"}),
              std::nullopt);
    EXPECT_EQ(ok("test", {"testtype", "fullclientserver", "port", "0",
                          "mimestore.commitmode", "archive"}),
              std::nullopt);
    EXPECT_EQ(ok("serverpop3", {"tlsport", "995", "tls.timeout", "5"}), std::nullopt);
}

}  // namespace
