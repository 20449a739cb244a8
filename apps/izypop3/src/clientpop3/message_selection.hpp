#pragma once
// Which server messages a run touches: the `query` key (all, new, N, N-M, and lists of
// them separated by commas) plus query.id, limit and maxsize.

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace izypop3::app {

struct message_selection {
    bool only_new = false;  ///< `new`: UIDLs the store does not hold yet
    /// Inclusive message number ranges; empty = every message.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;

    bool contains(std::uint32_t number) const noexcept;
};

/// Parses `query`; nullopt with `error` filled when it is malformed.
std::optional<message_selection> parse_selection(std::string_view query, std::string& error);

}  // namespace izypop3::app
