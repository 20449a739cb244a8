#pragma once
// `method test testtype fullclientserver`: our server in this process, scripted POP3
// conversations and full backups with our client against it, every byte compared with the
// store. See docs/selftest.md.

#include "cli/methods.hpp"

#include <iosfwd>

namespace izypop3::app {

int run_fullclientserver(const invocation& inv, std::ostream& out, std::ostream& err);

}  // namespace izypop3::app
