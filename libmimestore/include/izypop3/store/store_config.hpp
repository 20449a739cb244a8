#pragma once
// The mimestore.* part of the command line, as text, plus typed getters that explain what
// is wrong with a value.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace izypop3::store {

struct store_config {
    static constexpr std::string_view key_prefix = "mimestore.";

    /// Which backend: "fake" (default), "localfs", "maildir", "postgres" / "cloud".
    std::string modhandler = "fake";
    /// Every other mimestore.* key without the prefix ("count", "path", ...), as given.
    std::map<std::string, std::string> settings;
};

/// Files a command-line key into `cfg` if it is a mimestore.* key: "mimestore.modhandler"
/// sets modhandler, any other "mimestore.X" sets settings["X"]. Returns false (and changes
/// nothing) for keys outside the prefix. Does not validate; make_store/validate do.
bool apply_key(store_config& cfg, std::string_view full_key, std::string value);

/// The text of `key`, or `fallback` when it is not set.
std::string setting_text(const store_config& cfg, std::string_view key,
                         std::string_view fallback);

/// `key` as a strict unsigned decimal (no sign, no spaces, no suffix) in [min, max], or
/// `fallback` when it is not set. On failure returns errc::bad_setting_value and puts a
/// one-line explanation naming mimestore.<key>, the value and the allowed range into `why`.
boost::system::result<std::uint64_t> setting_uint(const store_config& cfg, std::string_view key,
                                                  std::uint64_t fallback, std::uint64_t min,
                                                  std::uint64_t max, std::string& why);

/// `key` as true/false/yes/no/on/off/1/0 (case-insensitive), or `fallback`. Errors as above.
boost::system::result<bool> setting_bool(const store_config& cfg, std::string_view key,
                                         bool fallback, std::string& why);

}  // namespace izypop3::store
