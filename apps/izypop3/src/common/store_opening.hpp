#pragma once
// How every method builds its message store: store::make_store with the method's logger as
// the log of mimestore.verbose, so that each store operation shows up as an info line
// "[STORE] query ... 0.412 ms" between the transcripts.

#include <izypop3/store/logged_store.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/store/store_config.hpp>
#include <izypop3/transport/logger.hpp>

#include <boost/system/result.hpp>

#include <memory>
#include <string>

namespace izypop3::app {

/// The lines of mimestore.verbose, made safe for the log, at info level.
store::store_log store_log_for(transport::logger log);

/// store::make_store(cfg, why, store_log_for(log)).
boost::system::result<std::unique_ptr<store::mime_store>> open_store(const store::store_config& cfg,
                                                                     const transport::logger& log,
                                                                     std::string& why);

}  // namespace izypop3::app
