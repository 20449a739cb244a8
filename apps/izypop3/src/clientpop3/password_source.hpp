#pragma once
// Where clientpop3's password (or OAuth2 token) comes from: `pass TEXT`, or the first line
// that `passeval COMMAND` prints (the two exclude each other), or else the environment
// variable IZYPOP3_PASS. A passeval command that fails, is killed or prints nothing stops
// the run before anything is sent, with one line saying which and what to do.

#include <boost/program_options/variables_map.hpp>

#include <iosfwd>
#include <optional>
#include <string>

namespace izypop3::app {

/// The password, or nullopt after a one-line error on `err` (exit code 2, docs/client.md).
std::optional<std::string> password_of(const boost::program_options::variables_map& vm,
                                       std::ostream& err);

/// The first line `command` (run by /bin/sh) prints, without its line end; nullopt with a
/// one-line reason in `why` when it cannot be run, exits with another status than 0, dies
/// of a signal or prints an empty first line.
std::optional<std::string> first_line_of(const std::string& command, std::string& why);

}  // namespace izypop3::app
