// pop3failed records.

#include "clientpop3/failure_record.hpp"

#include <izypop3/core/status_line.hpp>

#include <fmt/format.h>

namespace izypop3::app {

std::string failure_notice(const failed_fetch& f) {
    const std::string uid = core::printable(f.uid, 80);
    const std::string source = core::printable(f.source_id, 120);
    const std::string reason = core::printable(f.reason, 300);
    return fmt::format(
        "From: izypop3 clientpop3 <izypop3@invalid>\r\n"
        "Subject: [pop3failed] {}: {}\r\n"
        "X-Izypop3-Source: {}\r\n"
        "X-Izypop3-Uid: {}\r\n"
        "X-Izypop3-Message-Number: {}\r\n"
        "\r\n"
        "izypop3 could not retrieve message {} (UID {}) from {}:\r\n"
        "{}\r\n"
        "Nothing of the message was stored, and it was not deleted on the server. The next\r\n"
        "backup run with query new fetches it again and replaces this record.\r\n",
        uid, reason, source, uid, f.number, f.number, uid, source, reason);
}

boost::system::error_code record_failed_fetch(store::mime_store& store, const failed_fetch& f) {
    store::item meta;
    meta.guid = f.uid;
    meta.source_id = f.source_id;
    meta.mailbox = f.mailbox;
    meta.tags = {std::string(store::tag::pop3failed)};
    auto w = store.begin_add(std::move(meta));
    if (!w) return w.error();
    if (auto ec = (*w)->write(failure_notice(f))) return ec;
    auto r = (*w)->commit();
    return r ? boost::system::error_code{} : r.error();
}

}  // namespace izypop3::app
