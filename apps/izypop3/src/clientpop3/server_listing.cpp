// STAT, LIST and UIDL through core::maildrop_listing.

#include "clientpop3/server_listing.hpp"

#include <izypop3/core/status_line.hpp>

#include <variant>

namespace izypop3::app {

namespace ca = core::client_action;

std::optional<std::vector<core::listed_message>> list_server_messages(pop3_link& link,
                                                                      std::size_t max_messages,
                                                                      bool with_uids,
                                                                      std::string& problem) {
    core::maildrop_listing listing(max_messages, with_uids);
    auto submit = [&link](core::request_kind k) {
        core::request r;
        r.kind = k;
        return link.session().submit(r);
    };
    const auto stat = submit(core::request_kind::stat);
    const auto list = submit(core::request_kind::list);
    const auto uidl = with_uids ? submit(core::request_kind::uidl) : 0;
    link.pump([&](const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a)) {
            if (r->ok && r->id == stat) listing.stat(r->a, r->b);
            if (r->ok) return;
            const std::string verb = r->id == stat ? "STAT" : r->id == list ? "LIST" : "UIDL";
            listing.reject("the server refused " + verb + ": -ERR " +
                           core::printable(r->text, 120) +
                           (r->id == uidl ? " (a backup needs UIDL to know its messages)" : ""));
        } else if (const auto* e = std::get_if<ca::listing_entry>(&a)) {
            if (e->id == list) listing.size(e->number, e->size);
            if (e->id == uidl) listing.uid(e->number, e->uid);
        }
    });
    // A listing refused at STAT explains a session that then failed on its length.
    if (!listing.ok() || (link.failure() == link_failure::none && !listing.finish())) {
        problem = listing.problem();
        return std::nullopt;
    }
    return listing.messages();
}

}  // namespace izypop3::app
