#pragma once

#include <string_view>

namespace izypop3::app {

/// Printed by `izypop3 --version`; keep in step with project(... VERSION) in CMakeLists.txt.
inline constexpr std::string_view version = "0.1.0";

}  // namespace izypop3::app
