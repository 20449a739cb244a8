#pragma once
// http.port on serverpop3: /metrics (the server's counters and a build-info gauge, in the
// Prometheus text format), /healthz (the process answers) and /readyz (the store answers a
// trivial query). Anything else is 404.

#include <izypop3/store/store.hpp>
#include <izypop3/transport/http_server.hpp>
#include <izypop3/transport/server.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace izypop3::app {

/// Empty when the store's files are there (`paths`: its mimestore.path, if any; a directory
/// store answers for a missing folder with an empty result) and `data` answers a query for
/// a mailbox no one has; else why not, in one line.
std::optional<std::string> store_unready(store::mime_store& data,
                                         const std::vector<std::string>& paths);

/// The handler for the server's HTTP listener. `srv` must outlive it.
transport::http_handler status_endpoints(const transport::server& srv,
                                         std::shared_ptr<store::mime_store> data,
                                         std::vector<std::string> store_paths);

}  // namespace izypop3::app
