// Fuzz target for core::parse_command (F01). Besides not crashing, an accepted line must be
// canonical: rebuilding it from the verb name and the arguments gives the same octets except
// for the case of the verb, and parsing the rebuilt line gives the same command.

#include <izypop3/core/command.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "parse_command invariant broken: %s\n", what);
        std::abort();
    }
}

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace izypop3::core;
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto r = parse_command(line);
    if (!r) {
        check(r.error().code != errc{}, "error without a code");
        return 0;
    }
    const command& c = *r;
    check(std::memchr(line.data(), '\0', line.size()) == nullptr, "NUL accepted");
    check(c.arg_count <= 2, "more than two arguments");
    std::string rebuilt(verb_name(c.v));
    for (std::size_t i = 0; i < c.arg_count; ++i) {
        check(!c.args[i].empty(), "empty argument");
        check(c.args[i].data() >= line.data() &&
                  c.args[i].data() + c.args[i].size() <= line.data() + line.size(),
              "argument outside the line");
        rebuilt += ' ';
        rebuilt += c.args[i];
    }
    check(rebuilt.size() == line.size(), "accepted line is not canonical (length)");
    for (std::size_t i = 0; i < line.size(); ++i)
        check(upper(line[i]) == upper(rebuilt[i]), "accepted line is not canonical");
    if (c.number) check(*c.number > 0, "message number 0");
    const auto again = parse_command(rebuilt);
    check(again.has_value(), "canonical form rejected");
    check(again->v == c.v && again->arg_count == c.arg_count && again->number == c.number &&
              again->lines == c.lines,
          "canonical form parses differently");
    return 0;
}
