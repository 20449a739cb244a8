#pragma once
// The method table: `izypop3 method NAME key value ...` looks NAME up here. Each method
// declares its keys once, in its own method_NAME.cpp, as a Program_options table with
// types, defaults and help text; help, the Markdown reference and validation all read it.

#include <izypop3/store/store_config.hpp>
#include <izypop3/transport/logger.hpp>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <iosfwd>
#include <span>
#include <string_view>

namespace izypop3::app {

/// A validated command line for one method.
struct invocation {
    std::string_view method;
    /// Every non-mimestore key of the method's tables, with defaults filled in.
    boost::program_options::variables_map options;
    /// mimestore.modhandler and the store's own mimestore.* keys, already checked by
    /// store::validate.
    store::store_config store;
};

/// The logging keys of one method, each with what it does there. A key whose text is empty
/// is not a key of the method: a key that can do nothing in a method is not offered by it.
struct logging_keys {
    std::string_view server_log;  ///< verbose.serverLog
    std::string_view client_log;  ///< verbose.clientLog
    std::string_view wait_time;   ///< verbose.waitTime
    std::string_view loglevel;    ///< loglevel (every method has it)
};

struct method_entry {
    std::string_view name;
    std::string_view summary;  ///< one line, for the usage listing
    /// The method's own keys (the logging and mimestore groups are added by all_options).
    boost::program_options::options_description (*options)();
    logging_keys logging;
    /// Runs the method; returns an exit code (exit_codes.hpp). Results go to `out`,
    /// diagnostics to `err`.
    int (*run)(const invocation& inv, std::ostream& out, std::ostream& err);
};

/// Every method, in the order the usage lists them.
std::span<const method_entry> method_table() noexcept;
/// nullptr when there is no method of that name.
const method_entry* find_method(std::string_view name) noexcept;

/// The method's logging keys: loglevel, and those of verbose.serverLog, verbose.clientLog
/// and verbose.waitTime that do something in it.
boost::program_options::options_description logging_options(const method_entry& m);
/// The methods other than `m` that have `key`, e.g. "serverpop3, test"; empty when none.
std::string methods_with_key(const method_entry& m, std::string_view key);
/// mimestore.modhandler; the store's own keys come from store::settings_of().
boost::program_options::options_description store_options();
/// The method's keys plus the logging and mimestore groups: what the parser validates.
boost::program_options::options_description all_options(const method_entry& m);

/// The logger a method runs with: level from loglevel, transcripts from verbose.serverLog
/// and verbose.clientLog, waits from verbose.waitTime (each where the method has it), lines
/// to `sink`.
transport::logger logger_for(const invocation& inv,
                             transport::log_sink sink = transport::stderr_sink());

/// Prints `izypop3: method NAME is not built yet (why); see docs/cli.md` and returns
/// exit_code::not_built. `what` is e.g. "method serverpop3".
int not_built(std::ostream& err, std::string_view what, std::string_view why);

// The tables and entry points, one pair per method_NAME.cpp.
boost::program_options::options_description serverpop3_options();
int run_serverpop3(const invocation& inv, std::ostream& out, std::ostream& err);
boost::program_options::options_description clientpop3_options();
int run_clientpop3(const invocation& inv, std::ostream& out, std::ostream& err);
boost::program_options::options_description test_options();
int run_test(const invocation& inv, std::ostream& out, std::ostream& err);
boost::program_options::options_description querystore_options();
int run_querystore(const invocation& inv, std::ostream& out, std::ostream& err);

}  // namespace izypop3::app
