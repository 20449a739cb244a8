#pragma once
// "Did you mean ...?" for mistyped keys, method names and enumerated values.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace izypop3::app {

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring
/// ASCII case: "pasword" -> "password" is 1, "prot" -> "port" is 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate `typed` most likely meant: the nearest one within an edit distance of 2
/// (ties go to the earlier candidate), else the first candidate that `typed` (3 characters
/// or more) is a prefix of. nullopt when nothing is close.
std::optional<std::string_view> suggest(std::string_view typed,
                                        std::span<const std::string_view> candidates);

}  // namespace izypop3::app
