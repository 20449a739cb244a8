#pragma once
// What opening localfs and maildir stores shares: the settings table, parsing the
// mimestore.* options, and checking the configured path.

#include "dir_layout.hpp"
#include "dir_store_engine.hpp"

#include <izypop3/store/dir_store.hpp>

#include <memory>
#include <span>
#include <string>

namespace izypop3::store::detail {

std::span<const setting_info> localfs_setting_table() noexcept;
std::span<const setting_info> maildir_setting_table() noexcept;

boost::system::result<dir_store_options> dir_options(const store_config& cfg, std::string& why);

/// Checks (and with `create` makes) the directory of `opts.path` and builds the engine.
/// `require_maildir`: an existing mailbox directory must be empty or a Maildir.
boost::system::result<std::unique_ptr<dir_store_engine>> open_dir_engine(
    std::unique_ptr<dir_layout> layout, const dir_store_options& opts, bool require_maildir,
    std::string& error_text);

}  // namespace izypop3::store::detail
