#include "serverpop3/status_endpoints.hpp"

#include "cli/version.hpp"
#include "serverpop3/privilege_drop.hpp"

#include <izypop3/transport/server_metrics.hpp>

#include <fmt/format.h>

namespace izypop3::app {

namespace {

constexpr std::string_view exposition_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view text_type = "text/plain; charset=utf-8";

// A mailbox no one has: the query touches the store (a connection, a directory) but reads
// no messages, so a probe every few seconds costs next to nothing.
constexpr std::string_view probe_mailbox = "izypop3-readiness-probe";

std::string metrics_text(const transport::server& srv, std::string_view store_kind) {
    std::string out;
    out.reserve(8192);
    srv.metrics().write_prometheus(out, store_kind);
    out +=
        "# HELP izypop3_build_info The running izypop3's version (the value is always 1).\n"
        "# TYPE izypop3_build_info gauge\n";
    out += fmt::format("izypop3_build_info{{version=\"{}\"}} 1\n",
                       transport::escape_label_value(version));
    return out;
}

}  // namespace

std::optional<std::string> store_unready(store::mime_store& data,
                                         const std::vector<std::string>& paths) {
    if (auto bad = first_unreadable(paths))
        return fmt::format("store {} cannot be read: {}", data.kind(), *bad);
    store::query_options q;
    q.limit = 0;
    q.mailbox = probe_mailbox;
    try {
        auto r = data.query(q);
        if (!r)
            return fmt::format("store {} did not answer a query: {}", data.kind(),
                               r.error().message());
    } catch (const std::exception& e) {
        return fmt::format("store {} did not answer a query: {}", data.kind(), e.what());
    }
    return std::nullopt;
}

transport::http_handler status_endpoints(const transport::server& srv,
                                         std::shared_ptr<store::mime_store> data,
                                         std::vector<std::string> store_paths) {
    return [&srv, data = std::move(data),
            paths = std::move(store_paths)](std::string_view path) -> transport::http_reply {
        if (path == "/metrics")
            return {200, std::string(exposition_type), metrics_text(srv, data->kind())};
        if (path == "/healthz") return {200, std::string(text_type), "ok\n"};
        if (path == "/readyz") {
            if (auto why = store_unready(*data, paths))
                return {503, std::string(text_type), "not ready: " + *why + "\n"};
            return {200, std::string(text_type), "ready\n"};
        }
        return {404, std::string(text_type),
                "not found; this server answers /metrics, /healthz and /readyz\n"};
    };
}

}  // namespace izypop3::app
