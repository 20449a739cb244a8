#include "common/store_opening.hpp"

#include <izypop3/store/store_factory.hpp>

namespace izypop3::app {

store::store_log store_log_for(transport::logger log) {
    // Guids, tags and user names come from peers and other programs' files.
    return [log = std::move(log)](std::string_view line) {
        log.info("[STORE] {}", transport::sanitize_for_log(line));
    };
}

boost::system::result<std::unique_ptr<store::mime_store>> open_store(const store::store_config& cfg,
                                                                     const transport::logger& log,
                                                                     std::string& why) {
    return store::make_store(cfg, why, store_log_for(log));
}

}  // namespace izypop3::app
