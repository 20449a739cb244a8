#include <izypop3/store/localfs_store.hpp>

#include "dir_store_setup.hpp"

namespace izypop3::store {

std::span<const setting_info> localfs_settings() noexcept { return detail::localfs_setting_table(); }

boost::system::result<localfs_store_options> localfs_options(const store_config& cfg, std::string& why) {
    return detail::dir_options(cfg, why);
}

boost::system::error_code validate_localfs_settings(const store_config& cfg,
                                                    std::string& error_text) {
    auto opts = localfs_options(cfg, error_text);
    return opts ? boost::system::error_code{} : opts.error();
}

boost::system::result<std::unique_ptr<mime_store>> make_localfs_store(const store_config& cfg,
                                                                      std::string& error_text) {
    auto opts = localfs_options(cfg, error_text);
    if (!opts) return opts.error();
    auto s = localfs_store::open(*opts, error_text);
    if (!s) return s.error();
    return std::unique_ptr<mime_store>(std::move(*s));
}

boost::system::result<std::unique_ptr<localfs_store>> localfs_store::open(
    const localfs_store_options& opts, std::string& error_text) {
    auto engine = detail::open_dir_engine(detail::make_localfs_layout(), opts,
                                          false, error_text);
    if (!engine) return engine.error();
    return std::unique_ptr<localfs_store>(new localfs_store(std::move(*engine)));
}

}  // namespace izypop3::store
