#include "selftest/check_list.hpp"

#include "common/exit_codes.hpp"
#include "common/json.hpp"
#include "common/terminal_text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace izypop3::app {

void check_list::record(std::string_view name, const verdict& failure) {
    ++(failure ? failed_ : passed_);
    if (json_) {
        results_.emplace_back(std::string(name), failure);
        return;
    }
    if (failure) {
        out_ << "FAIL " << name << ": " << terminal_safe(*failure) << '\n';
    } else {
        out_ << "PASS " << name << '\n';
    }
    out_.flush();  // a person watching sees progress; a crash keeps what was printed
}

int check_list::finish() {
    if (json_) {
        boost::json::array checks;
        for (const auto& [name, failure] : results_) {
            boost::json::object c{{"name", json_string(name)}, {"passed", !failure}};
            if (failure) c["failure"] = json_string(*failure);
            checks.emplace_back(std::move(c));
        }
        boost::json::object report = std::move(*json_);
        report["checks"] = std::move(checks);
        report["passed"] = passed_;
        report["failed"] = failed_;
        write_json_line(out_, report);
    } else {
        out_ << passed_ << " passed, " << failed_ << " failed\n";
    }
    return failed_ == 0 ? exit_code::ok : exit_code::failure;
}

verdict compare_octets(std::string_view expected, std::string_view got) {
    const auto [e, g] = std::mismatch(expected.begin(), expected.end(), got.begin(), got.end());
    if (e == expected.end() && g == got.end()) return std::nullopt;
    const auto offset = static_cast<std::size_t>(e - expected.begin());
    if (e == expected.end())
        return fmt::format("{} octets expected, got {} (extra octets from offset {})",
                           expected.size(), got.size(), offset);
    if (g == got.end())
        return fmt::format("{} octets expected, got only {} (missing from offset {})",
                           expected.size(), got.size(), offset);
    return fmt::format(
        "first difference at offset {}: expected 0x{:02X}, got 0x{:02X} ({} "
        "octets expected, {} got)",
        offset, static_cast<unsigned char>(*e), static_cast<unsigned char>(*g), expected.size(),
        got.size());
}

}  // namespace izypop3::app
