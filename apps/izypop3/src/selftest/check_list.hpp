#pragma once
// The self-test's report: one line per check (`PASS name` / `FAIL name: what differed`),
// then `N passed, M failed` alone on a line; or, for `format json`, one JSON object at the
// end with the same facts.

#include <boost/json/object.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace izypop3::app {

/// A check's verdict: nothing = passed, else what differed.
using verdict = std::optional<std::string>;

class check_list {
  public:
    /// Text: each check printed as it ends, so a person watching sees progress.
    explicit check_list(std::ostream& out) : out_(out) {}
    /// JSON: `about` (what was tested) is the object that `checks`, `passed` and `failed`
    /// are added to; nothing is printed before finish(), so stdout stays one JSON value.
    check_list(std::ostream& out, boost::json::object about) : out_(out), json_(std::move(about)) {}
    void record(std::string_view name, const verdict& failure);
    /// Prints the totals (or the JSON object); the exit code is 0 only when nothing failed.
    int finish();
    unsigned failed() const noexcept { return failed_; }

  private:
    std::ostream& out_;
    std::optional<boost::json::object> json_;
    std::vector<std::pair<std::string, verdict>> results_;
    unsigned passed_ = 0;
    unsigned failed_ = 0;
};

/// Compares octets: nothing when equal, else "first difference at offset N: expected 0xAB,
/// got 0xCD" or which one is shorter, with both lengths.
verdict compare_octets(std::string_view expected, std::string_view got);

}  // namespace izypop3::app
