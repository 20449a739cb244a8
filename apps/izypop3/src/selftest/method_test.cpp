// method test: testtype mimestore queries a store (the original's subsystem test);
// fullclientserver runs scripted clients against an in-process server; load measures one.

#include "selftest/fullclientserver.hpp"
#include "selftest/load_test.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "common/exit_codes.hpp"
#include "querystore/query_report.hpp"

#include <fmt/format.h>

#include <string>

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description test_options() {
    po::options_description d("test");
    d.add_options()
        ("testtype", po::value<choice<testtype_names>>()->default_value(choice<testtype_names>{"mimestore"})->value_name("mimestore|fullclientserver|load"),
         "mimestore = print a store query; fullclientserver = scripted clients against a "
         "server in this process; load = many sessions against a server")
        ("port", po::value<port_or_zero>()->default_value(port_or_zero{0})->value_name("PORT"),
         "fullclientserver: plain POP3 port, implicit TLS on port+1 (0 = free ports); load: "
         "the server's port (0 = 110, or 995 with tls true)")
        ("query.tags", po::value<std::vector<std::string>>()->composing()->value_name("TAG,..."),
         "mimestore: items must carry every one of these tags; comma-separated or repeated; "
         "none = no tag filter")
        ("query.limit", po::value<count_value>()->default_value(count_value{10})->value_name("N"),
         "mimestore: list at most this many items (0 = only count them)")
        ("query.order", po::value<choice<order_names>>()->default_value(choice<order_names>{"asc"})->value_name("asc|desc"),
         "mimestore: the store's insertion order, or its reverse")
        ("format", po::value<choice<format_names>>()->default_value(choice<format_names>{"text"})->value_name("text|json"),
         "output format: text lines, or one JSON object with the same facts (every test type)")
        ("ip", po::value<std::string>()->value_name("HOST"),
         "load: server to load; none = our server in this process on the mimestore.* store")
        ("user", po::value<std::string>()->value_name("TEXT"),
         "load: user name; %n becomes the client's number 1..clients, so that each client "
         "has its own maildrop (default: load%n)")
        ("pass", po::value<std::string>()->value_name("TEXT"),
         "load: password (default: the user name, as our in-process server expects)")
        ("clients", po::value<count_value>()->default_value(count_value{10})->value_name("N"),
         "load: concurrent connections")
        ("sessions", po::value<count_value>()->default_value(count_value{100})->value_name("N"),
         "load: sessions in all; 0 = until duration ends")
        ("duration", po::value<seconds_value>()->default_value(seconds_value{10})->value_name("SECONDS"),
         "load: stop after this long")
        ("mode", po::value<choice<load_mode_names>>()->default_value(choice<load_mode_names>{"login"})->value_name("login|retrall|idle"),
         "load: each session logs in and quits, retrieves every message, or stays idle")
        ("serverpid", po::value<count_value>()->value_name("PID"),
         "load: process id of the server, to report its memory and CPU use")
        ("tls", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "load: implicit TLS")
        ("starttls", po::value<choice<starttls_names>>()->default_value(choice<starttls_names>{"auto"})->value_name("auto|true|false"),
         "load: STLS before login (auto = when offered)")
        ("tls.fingerprint", po::value<std::string>()->value_name("HEX"),
         "load: accept only a server certificate with this SHA-256 fingerprint")
        ("tls.verify", po::value<flag>()->default_value(flag{true})->value_name("BOOL"),
         "load: check the server certificate and name")
        ("report", po::value<std::string>()->value_name("FILE"),
         "load: also write the run as one self-contained HTML page (sessions/s and MB/s over "
         "time, latency histograms with p50/p90/p99, errors, settings); replaced whole at the end");
    return d;
}

int run_test(const invocation& inv, std::ostream& out, std::ostream& err) {
    const std::string& type = inv.options["testtype"].as<choice<testtype_names>>().value;
    if (type == "mimestore") return run_store_query(inv, out, err);
    if (type == "fullclientserver") return run_fullclientserver(inv, out, err);
    return run_load_test(inv, out, err);
}

}  // namespace izypop3::app
