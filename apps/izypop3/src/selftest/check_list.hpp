#pragma once
// The self-test's report: one line per check (`PASS name` / `FAIL name: what differed`),
// then `N passed, M failed` alone on a line.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace izypop3::app {

/// A check's verdict: nothing = passed, else what differed.
using verdict = std::optional<std::string>;

class check_list {
public:
    explicit check_list(std::ostream& out) : out_(out) {}
    void record(std::string_view name, const verdict& failure);
    /// Prints the totals line; the exit code is 0 only when nothing failed.
    int finish();
    unsigned failed() const noexcept { return failed_; }

private:
    std::ostream& out_;
    unsigned passed_ = 0;
    unsigned failed_ = 0;
};

/// Compares octets: nothing when equal, else "first difference at offset N: expected 0xAB,
/// got 0xCD" or which one is shorter, with both lengths.
verdict compare_octets(std::string_view expected, std::string_view got);

}  // namespace izypop3::app
