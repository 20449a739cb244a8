#pragma once
// Usage, per-method help and the Markdown reference (docs/cli.md), all rendered from the
// method table and the option tables, so the documentation cannot drift from the parser.

#include "cli/methods.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace izypop3::app {

/// One key as the help shows it.
struct option_row {
    std::string key;
    std::string value;                        ///< what to write: PORT, BOOL, a|b|c ...
    std::optional<std::string> default_text;  ///< nullopt when the key has no default
    std::string help;
};

/// The rows of one option group, in declaration order.
std::vector<option_row> rows_of(const boost::program_options::options_description& d);

/// `izypop3 help`: how to call izypop3 and the list of methods.
void write_usage(std::ostream& out);
/// `izypop3 method NAME help`: every key of the method with value, default and meaning.
void write_method_help(std::ostream& out, const method_entry& m);
/// `izypop3 help markdown`: the whole reference; docs/cli.md is exactly this output.
void write_markdown(std::ostream& out);

}  // namespace izypop3::app
