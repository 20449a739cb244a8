#pragma once
// The "localfs" store (the original's): a directory of .eml files, each exactly the
// message octets, named "<sourceid>_<guid>.eml" made safe for any file system, with tag
// folders archive/, staged/, dup/ (and pop3failed/, conversionerror/) made when first
// needed, and izypop3's own files in ".izypop3/" (temporary files, the metadata log
// meta.log, the lock files). Common behaviour: dir_store.hpp; format: docs/stores.md.

#include <izypop3/store/dir_store.hpp>

namespace izypop3::store {

using localfs_store_options = dir_store_options;

/// The mimestore.* settings of the localfs store: path, create, commitmode.
std::span<const setting_info> localfs_settings() noexcept;
boost::system::result<localfs_store_options> localfs_options(const store_config& cfg,
                                                             std::string& why);
boost::system::error_code validate_localfs_settings(const store_config& cfg,
                                                    std::string& error_text);
boost::system::result<std::unique_ptr<mime_store>> make_localfs_store(const store_config& cfg,
                                                                      std::string& error_text);

class localfs_store final : public dir_store {
public:
    /// Checks the path (bad_config: missing without create, not a directory; read_only: no
    /// permission to read it), always with a one-line `error_text` naming the path and what
    /// to do.
    static boost::system::result<std::unique_ptr<localfs_store>> open(
        const localfs_store_options& opts, std::string& error_text);

    std::string_view kind() const noexcept override { return "localfs"; }

private:
    using dir_store::dir_store;
};

}  // namespace izypop3::store
