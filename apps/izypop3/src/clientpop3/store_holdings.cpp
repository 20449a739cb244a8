// The store's copies of one account's messages.

#include "clientpop3/store_holdings.hpp"

#include <algorithm>

namespace izypop3::app {

bool store_holdings::holds(const std::string& uid, std::uint64_t size) const {
    auto it = copies.find(uid);
    return it != copies.end() &&
           std::find(it->second.begin(), it->second.end(), size) != it->second.end();
}

std::optional<store_holdings> read_holdings(store::mime_store& store, const std::string& mailbox,
                                            const std::string& source_id, std::string& problem) {
    store::query_options q;
    q.limit = store::query_options::unlimited;
    q.mailbox = mailbox;
    auto r = store.query(q);
    if (!r) {
        problem = r.error().message();
        return std::nullopt;
    }
    store_holdings out;
    for (const auto& it : r->items) {
        if (it.source_id != source_id) continue;
        if (store::has_tag(it, store::tag::pop3failed)) {
            out.failed.insert(it.guid);
        } else {
            out.copies[it.guid].push_back(it.size);
        }
    }
    for (const auto& [uid, sizes] : out.copies) out.failed.erase(uid);
    return out;
}

}  // namespace izypop3::app
