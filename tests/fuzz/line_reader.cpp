// Fuzz target for core::line_reader: the input is cut into chunks of fuzzer-chosen sizes and
// the lines read must equal those of a one-shot reference split, with overlong lines reported
// once and the buffer never holding more than one partial line of max_line + 1 octets
// (SECURITY S08, F01).

#include <izypop3/core/line_reader.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view overlong = "<overlong>";

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "line_reader invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t max_line = 1 + data[0] % 64;
    const std::size_t chunk = 1 + data[1] % 97;
    const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

    // Reference: every LF-terminated line, one CR before the LF stripped.
    std::vector<std::string> expected;
    std::size_t start = 0;
    for (std::size_t lf; (lf = input.find('\n', start)) != std::string_view::npos; start = lf + 1) {
        std::string_view text = input.substr(start, lf - start);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        expected.emplace_back(text.size() > max_line ? overlong : text);
    }
    const std::string_view tail = input.substr(start);
    const bool tail_overlong = tail.size() > max_line + 1 ||
                               (tail.size() == max_line + 1 && tail.back() != '\r');
    if (tail_overlong) expected.emplace_back(overlong);

    izypop3::core::line_reader reader(max_line);
    std::vector<std::string> got;
    for (std::size_t i = 0; i < input.size(); i += chunk) {
        reader.append(input.substr(i, chunk));
        check(reader.unread().size() <= max_line + 1 + chunk, "buffer larger than line + chunk");
        while (auto l = reader.next()) {
            check(!l->overlong || l->text.empty(), "overlong line with text");
            check(l->text.size() <= max_line, "line longer than max_line");
            check(l->text.find('\n') == std::string_view::npos, "LF inside a line");
            got.emplace_back(l->overlong ? overlong : l->text);
        }
        check(reader.unread().size() <= max_line + 1, "partial line larger than max_line + 1");
    }
    check(got == expected, "lines differ from the reference split");
    check(tail_overlong ? reader.unread().empty() : reader.unread() == tail, "wrong unread tail");
    reader.consume(reader.unread().size() / 2);
    reader.clear();
    check(reader.unread().empty() && !reader.next(), "clear() left data");
    return 0;
}
