#pragma once
// `method test testtype load`: the command-line side of load_generator.hpp (settings from
// the keys, an in-process server when no ip is given, the report in text or JSON).

#include "cli/methods.hpp"

#include <iosfwd>

namespace izypop3::app {

int run_load_test(const invocation& inv, std::ostream& out, std::ostream& err);

}  // namespace izypop3::app
