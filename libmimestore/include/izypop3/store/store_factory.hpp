#pragma once
// Builds the store named by mimestore.modhandler, and describes every store's settings so
// the command line can list and check mimestore.* keys.

#include <izypop3/store/logged_store.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/store/store_config.hpp>

#include <boost/system/error_code.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store {

struct setting_info {
    std::string name;           ///< without the "mimestore." prefix
    std::string default_value;  ///< as text, as the user would write it
    std::string description;    ///< one line, for --help
};

/// Every modhandler name this program knows, built or not, in a stable order.
std::vector<std::string> known_modhandlers();

/// True when `modhandler` can be built by make_store in this build.
bool is_built(std::string_view modhandler) noexcept;

/// The settings of a built store (empty for unknown or not-yet-built stores), without the
/// common ones.
std::span<const setting_info> settings_of(std::string_view modhandler) noexcept;

/// Settings every store accepts: `verbose` (mimestore.verbose), which wraps the store in
/// make_logged_store.
std::span<const setting_info> common_settings() noexcept;

/// Checks modhandler and every setting without building anything. On failure returns
/// unknown_modhandler (the text lists the known ones), not_built ("mimestore.modhandler
/// localfs is not built yet"), unknown_setting (the text names the key and lists the valid
/// ones) or bad_setting_value, with a one-line explanation in `error_text`.
boost::system::error_code validate(const store_config& cfg, std::string& error_text);

/// validate(), then builds the store. Errors as validate(), plus whatever opening the
/// backend reports (io_error, no_such_mailbox ...), always with `error_text` filled. With
/// mimestore.verbose true the store is wrapped so that every operation is written to `log`;
/// asking for that without a log is a programmer error (std::invalid_argument).
boost::system::result<std::unique_ptr<mime_store>> make_store(const store_config& cfg,
                                                              std::string& error_text,
                                                              store_log log = {});

}  // namespace izypop3::store
