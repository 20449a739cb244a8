#pragma once
// Where each key does something. A key given on the command line (not defaulted) where it
// would do nothing is refused rather than ignored, and so are the combinations that would
// lose mail (deleting with a store that keeps nothing, deleting what `query new` selects).
// Keys not in the table are not constrained.

#include "cli/methods.hpp"

#include <optional>
#include <string>

namespace izypop3::app {

/// Why `inv` cannot run as given: the line to print after "izypop3: METHOD: ", naming the
/// key, where it applies and what to do; nullopt when every key given does something.
std::optional<std::string> idle_key(const invocation& inv);

}  // namespace izypop3::app
