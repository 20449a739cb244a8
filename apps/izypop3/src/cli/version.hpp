#pragma once

#include <string_view>

namespace izypop3::app {

/// Printed by `izypop3 --version`; set from project(... VERSION) in CMakeLists.txt.
inline constexpr std::string_view version = IZYPOP3_VERSION;

}  // namespace izypop3::app
