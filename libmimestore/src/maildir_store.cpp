#include <izypop3/store/maildir_store.hpp>

#include "dir_store_setup.hpp"

namespace izypop3::store {

std::span<const setting_info> maildir_settings() noexcept { return detail::maildir_setting_table(); }

boost::system::result<maildir_store_options> maildir_options(const store_config& cfg, std::string& why) {
    return detail::dir_options(cfg, why);
}

boost::system::error_code validate_maildir_settings(const store_config& cfg,
                                                    std::string& error_text) {
    auto opts = maildir_options(cfg, error_text);
    return opts ? boost::system::error_code{} : opts.error();
}

boost::system::result<std::unique_ptr<mime_store>> make_maildir_store(const store_config& cfg,
                                                                      std::string& error_text) {
    auto opts = maildir_options(cfg, error_text);
    if (!opts) return opts.error();
    auto s = maildir_store::open(*opts, error_text);
    if (!s) return s.error();
    return std::unique_ptr<mime_store>(std::move(*s));
}

boost::system::result<std::unique_ptr<maildir_store>> maildir_store::open(
    const maildir_store_options& opts, std::string& error_text) {
    auto engine = detail::open_dir_engine(detail::make_maildir_layout(), opts,
                                          true, error_text);
    if (!engine) return engine.error();
    return std::unique_ptr<maildir_store>(new maildir_store(std::move(*engine)));
}

}  // namespace izypop3::store
