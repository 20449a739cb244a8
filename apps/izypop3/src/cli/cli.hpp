#pragma once
// Turns a command line into a method and its validated options.
//
// The original's form is `method NAME key value key value ...`; GNU-style `--key value` and
// `--key=value` are accepted as well. Every mistake becomes one line on stderr that names the
// key, says what is wrong and what to do, and exit code 2 (exit_codes.hpp).

#include "cli/methods.hpp"

#include <iosfwd>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace izypop3::app {

/// A command-line mistake (or a request for something not built): `what()` is the line
/// to print after "izypop3: ", `exit_code()` the process exit code.
class cli_error : public std::runtime_error {
public:
    cli_error(const std::string& message, int code) : std::runtime_error(message), code_(code) {}
    [[nodiscard]] int exit_code() const noexcept { return code_; }

private:
    int code_;
};

/// Parses the tokens after `method NAME`. Returns nullopt when they ask for help (a `help`,
/// `--help` or `-h` where a key is expected); throws cli_error for any mistake.
std::optional<invocation> parse_method_args(const method_entry& m,
                                            std::span<const std::string> tokens);

/// The whole program, in-process: `args` are the arguments after the program name.
/// Returns the exit code; results go to `out`, help to `out` (or to `err` with a usage
/// error), diagnostics to `err`.
int run_cli(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace izypop3::app
