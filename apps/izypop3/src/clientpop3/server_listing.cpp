// STAT, LIST and UIDL through core::maildrop_listing; without UIDL, ids from TOP n 0.

#include "clientpop3/server_listing.hpp"

#include <izypop3/core/header_fingerprint.hpp>
#include <izypop3/core/status_line.hpp>

#include <map>
#include <variant>

namespace izypop3::app {

namespace ca = core::client_action;

namespace {

// Gives each message the fingerprint of its header section (TOP n 0) as its id. False with
// `problem` set when the server refuses TOP too; false with it empty when the link failed.
bool fingerprint_ids(pop3_link& link, std::vector<core::listed_message>& messages,
                     std::string& problem) {
    std::map<std::uint64_t, std::size_t> index_of;  // request id -> message
    for (std::size_t i = 0; i < messages.size(); ++i) {
        core::request r;
        r.kind = core::request_kind::top;
        r.number = messages[i].number;
        r.lines = 0;
        r.max_octets = core::retr_cap(messages[i].size);
        index_of[link.session().submit(r)] = i;
    }
    std::vector<std::string> ids(messages.size());
    std::map<std::uint64_t, std::string> headers;  // of the TOPs still streaming
    const bool pumped = link.pump([&](const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a)) {
            if (!r->ok && problem.empty())
                problem = "the server has no UIDL and refused TOP " +
                          std::to_string(messages[index_of[r->id]].number) + " 0: -ERR " +
                          core::printable(r->text, 120) +
                          "; without either, a backup cannot tell its messages apart";
        } else if (const auto* b = std::get_if<ca::body>(&a)) {
            headers[b->id].append(b->data);
        } else if (const auto* e = std::get_if<ca::body_end>(&a)) {
            if (!e->ec) ids[index_of[e->id]] = core::header_fingerprint(headers[e->id]);
            headers.erase(e->id);
        }
    });
    if (!pumped || !problem.empty()) return false;
    core::number_repeated_ids(ids);
    for (std::size_t i = 0; i < messages.size(); ++i) messages[i].uid = std::move(ids[i]);
    return true;
}

}  // namespace

std::optional<std::vector<core::listed_message>> list_server_messages(pop3_link& link,
                                                                      std::size_t max_messages,
                                                                      bool with_uids,
                                                                      std::string& problem,
                                                                      std::string* without_uidl) {
    // A server that answers CAPA without UIDL has none: not even asked.
    const auto& session = link.session();
    const bool ask_uidl =
        with_uids && (!session.capa_supported() || session.has_capability("UIDL"));
    core::maildrop_listing listing(max_messages, ask_uidl);
    auto submit = [&link](core::request_kind k) {
        core::request r;
        r.kind = k;
        return link.session().submit(r);
    };
    const auto stat = submit(core::request_kind::stat);
    const auto list = submit(core::request_kind::list);
    const auto uidl = ask_uidl ? submit(core::request_kind::uidl) : 0;
    std::string uidl_refusal = ask_uidl ? "" : "it does not list UIDL in CAPA";
    link.pump([&](const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a)) {
            if (r->ok && r->id == stat) listing.stat(r->a, r->b);
            if (r->ok) return;
            if (r->id == uidl) {
                uidl_refusal = "it answers UIDL with -ERR " + core::printable(r->text, 120);
                listing.drop_uids();
                return;
            }
            listing.reject("the server refused " + std::string(r->id == stat ? "STAT" : "LIST") +
                           ": -ERR " + core::printable(r->text, 120));
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
    if (link.failure() != link_failure::none) return std::nullopt;
    auto messages = listing.messages();
    if (!with_uids || uidl_refusal.empty()) return messages;
    if (!fingerprint_ids(link, messages, problem)) return std::nullopt;
    if (without_uidl != nullptr)
        *without_uidl = "the server has no UIDL (" + uidl_refusal +
                        "): its messages are known by a fingerprint of their header section "
                        "(TOP n 0), so `query new` and later runs compare fingerprints";
    return messages;
}

}  // namespace izypop3::app
