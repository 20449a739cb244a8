#include "cli/methods.hpp"

#include "common/exit_codes.hpp"
#include "cli/option_types.hpp"

#include <array>
#include <utility>
#include <ostream>

namespace izypop3::app {

namespace po = boost::program_options;

namespace {

constexpr std::array<method_entry, 4> table{{
    {"serverpop3", "serve a message store to POP3 clients", serverpop3_options,
     run_serverpop3},
    {"clientpop3", "talk to a POP3 server: list, fetch or back up a mailbox into a store",
     clientpop3_options, run_clientpop3},
    {"test", "self-tests: query a store, run client against server, load a server",
     test_options, run_test},
    {"querystore", "query a message store and print what it holds", querystore_options,
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

po::options_description common_options() {
    po::options_description d("logging");
    d.add_options()
        ("verbose.serverLog", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "log every line the server sends and receives (passwords redacted)")
        ("verbose.clientLog", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "log every line the client sends and receives (passwords redacted)")
        ("verbose.waitTime", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "log how long each wait for the peer took")
        ("loglevel",
         po::value<choice<loglevel_names>>()
             ->default_value(choice<loglevel_names>{"info"})
             ->value_name("error|warn|info|debug"),
         "how much to log on stderr");
    return d;
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
    d.add(m.options()).add(common_options()).add(store_options());
    return d;
}

transport::logger logger_for(const invocation& inv, transport::log_sink sink) {
    const auto& vm = inv.options;
    // The table admits only names parse_log_level knows.
    const auto level =
        transport::parse_log_level(vm["loglevel"].as<choice<loglevel_names>>().value);
    transport::logger log(level.value_or(transport::log_level::info), std::move(sink));
    log.set_transcript_server(vm["verbose.serverLog"].as<flag>().value);
    log.set_transcript_client(vm["verbose.clientLog"].as<flag>().value);
    return log;
}

int not_built(std::ostream& err, std::string_view what, std::string_view why) {
    err << "izypop3: " << what << " is not built yet (" << why << "); see docs/cli.md\n";
    return exit_code::not_built;
}

}  // namespace izypop3::app
