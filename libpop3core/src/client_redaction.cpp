#include <izypop3/core/client_redaction.hpp>

#include <cctype>

namespace izypop3::core {
namespace {

bool starts_with_ci(std::string_view line, std::string_view prefix) noexcept {
    if (line.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
    }
    return true;
}

}  // namespace

std::string redact_client_login_line(std::string_view line) {
    if (line == "CAPA" || line == "STLS" || line == "UTF8" || line == "QUIT" || line == "*" ||
        starts_with_ci(line, "USER "))
        return std::string(line);
    if (starts_with_ci(line, "PASS ")) return "PASS <redacted>";
    if (starts_with_ci(line, "APOP ")) {
        // APOP name digest: the name stays, the digest goes.
        const auto last = line.rfind(' ');
        return std::string(line.substr(0, last)) + " <redacted>";
    }
    if (starts_with_ci(line, "AUTH ")) {
        const auto sp = line.find(' ', 5);
        if (sp == std::string_view::npos) return std::string(line);
        return std::string(line.substr(0, sp)) + " <redacted>";
    }
    return "<redacted>";
}

}  // namespace izypop3::core
