#include "cli/methods.hpp"

#include "common/exit_codes.hpp"
#include "cli/option_types.hpp"

#include <array>
#include <utility>
#include <ostream>

namespace izypop3::app {

namespace po = boost::program_options;

namespace {

constexpr std::string_view loglevel_text = "how much to log on stderr";

constexpr std::array<method_entry, 4> table{{
    {"serverpop3",
     "serve a message store to POP3 clients",
     serverpop3_options,
     {.server_log = "log every line the server sends and receives (passwords, SASL exchanges "
                    "and APOP digests redacted; message bodies are not logged)",
      .client_log = {},
      .wait_time = "log how long the server waited for each command line from a client",
      .loglevel = loglevel_text},
     run_serverpop3},
    {"clientpop3",
     "talk to a POP3 server: list, fetch or back up a mailbox into a store",
     clientpop3_options,
     {.server_log = {},
      .client_log = "log every line the client sends and receives (passwords, SASL exchanges "
                    "and APOP digests redacted; message bodies only by size)",
      .wait_time = "log how long each wait for the server took: the greeting, each reply, "
                   "each message body",
      .loglevel = loglevel_text},
     run_clientpop3},
    {"test",
     "self-tests: query a store, run client against server, load a server",
     test_options,
     {.server_log = "fullclientserver, and load without ip: log every line the server in this "
                    "process sends and receives (secrets redacted)",
      .client_log = "fullclientserver: log every line the scripted clients and the backups "
                    "send and receive (secrets redacted, message bodies only by size)",
      .wait_time = "fullclientserver: log each wait for the peer, on both sides; load without "
                   "ip: the server's side",
      .loglevel = loglevel_text},
     run_test},
    {"querystore",
     "query a message store and print what it holds",
     querystore_options,
     {.server_log = {}, .client_log = {}, .wait_time = {}, .loglevel = loglevel_text},
     run_querystore},
}};

}  // namespace

std::span<const method_entry> method_table() noexcept { return table; }

const method_entry* find_method(std::string_view name) noexcept {
    for (const method_entry& m : table) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

po::options_description logging_options(const method_entry& m) {
    po::options_description d("logging");
    auto add_flag = [&d](const char* key, std::string_view text) {
        if (text.empty()) return;
        d.add_options()(key, po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
                        std::string(text).c_str());
    };
    add_flag("verbose.serverLog", m.logging.server_log);
    add_flag("verbose.clientLog", m.logging.client_log);
    add_flag("verbose.waitTime", m.logging.wait_time);
    d.add_options()("loglevel",
                    po::value<choice<loglevel_names>>()
                        ->default_value(choice<loglevel_names>{"info"})
                        ->value_name("error|warn|info|debug"),
                    std::string(m.logging.loglevel).c_str());
    return d;
}

std::string methods_with_key(const method_entry& m, std::string_view key) {
    std::string names;
    for (const method_entry& other : table) {
        if (other.name == m.name) continue;
        if (all_options(other).find_nothrow(std::string(key), false) == nullptr) continue;
        names += (names.empty() ? "" : ", ") + std::string(other.name);
    }
    return names;
}

po::options_description store_options() {
    po::options_description d("message store");
    d.add_options()
        ("mimestore.modhandler", po::value<std::string>()->default_value("fake")->value_name("NAME"),
         "which message store to use; its own mimestore.* keys are listed below");
    return d;
}

po::options_description all_options(const method_entry& m) {
    po::options_description d;
    d.add(m.options()).add(logging_options(m)).add(store_options());
    return d;
}

transport::logger logger_for(const invocation& inv, transport::log_sink sink) {
    const auto& vm = inv.options;
    // The table admits only names parse_log_level knows.
    const auto level =
        transport::parse_log_level(vm["loglevel"].as<choice<loglevel_names>>().value);
    transport::logger log(level.value_or(transport::log_level::info), std::move(sink));
    // A key the method does not have is absent from the map, not false.
    auto on = [&vm](const char* key) { return vm.count(key) != 0 && vm[key].as<flag>().value; };
    log.set_transcript_server(on("verbose.serverLog"));
    log.set_transcript_client(on("verbose.clientLog"));
    log.set_wait_time(on("verbose.waitTime"));
    return log;
}

int not_built(std::ostream& err, std::string_view what, std::string_view why) {
    err << "izypop3: " << what << " is not built yet (" << why << "); see docs/cli.md\n";
    return exit_code::not_built;
}

}  // namespace izypop3::app
