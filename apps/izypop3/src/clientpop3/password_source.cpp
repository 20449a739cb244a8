#include "clientpop3/password_source.hpp"

#include <izypop3/transport/logger.hpp>

#include <fmt/format.h>

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

namespace izypop3::app {
namespace {

// A password line longer than this is not a password: the command printed something else.
constexpr std::size_t max_line = 64 * 1024;

std::string how_it_ended(int status) {
    if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 127) return "exited with status 127: the shell could not find the command";
    return fmt::format("exited with status {}", code);
}

}  // namespace

std::optional<std::string> first_line_of(const std::string& command, std::string& why) {
    std::FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) {
        why = fmt::format("cannot run it: {}", std::strerror(errno));
        return std::nullopt;
    }
    std::string line;
    int ch = 0;
    while ((ch = std::fgetc(p)) != EOF && ch != '\n') {
        if (line.size() < max_line) line += static_cast<char>(ch);
    }
    // The rest is read so that the command never blocks on a full pipe.
    while (ch != EOF) ch = std::fgetc(p);
    const int status = ::pclose(p);
    if (status == -1) {
        why = fmt::format("cannot wait for it: {}", std::strerror(errno));
        return std::nullopt;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        why = how_it_ended(status) + "; nothing it printed was used, run it by hand to see why";
        return std::nullopt;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
        why =
            "printed no password: its first line is empty; make it print the password on "
            "its first line";
        return std::nullopt;
    }
    return line;
}

std::optional<std::string> password_of(const boost::program_options::variables_map& vm,
                                       std::ostream& err) {
    if (vm.count("pass") && vm.count("passeval")) {
        err << "izypop3: clientpop3: give pass or passeval, not both (passeval keeps the "
               "password out of the process list)\n";
        return std::nullopt;
    }
    if (vm.count("pass")) return vm["pass"].as<std::string>();
    if (vm.count("passeval")) {
        const auto& command = vm["passeval"].as<std::string>();
        std::string why;
        auto line = first_line_of(command, why);
        if (!line) {
            err << fmt::format("izypop3: clientpop3: passeval command '{}' {}\n",
                               transport::sanitize_for_log(command, 200), why);
        }
        return line;
    }
    if (const char* env = std::getenv("IZYPOP3_PASS"); env != nullptr) return std::string(env);
    return std::string{};
}

}  // namespace izypop3::app
