// The backup run.

#include "backup_job.hpp"

#include "progress_meter.hpp"
#include "terminal_text.hpp"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <variant>

namespace izypop3::app {

namespace ca = core::client_action;

namespace {

struct server_message {
    std::uint64_t size = 0;
    std::string uid;
};

// number -> size and uid, from LIST and UIDL.
std::map<std::uint32_t, server_message> list_maildrop(pop3_link& link) {
    std::map<std::uint32_t, server_message> out;
    core::request r;
    r.kind = core::request_kind::uidl;
    const auto uidl_id = link.session().submit(r);
    r.kind = core::request_kind::list;
    link.session().submit(r);
    link.pump([&](const core::client_action_t& a) {
        if (const auto* e = std::get_if<ca::listing_entry>(&a)) {
            auto& m = out[e->number];
            if (e->id == uidl_id) {
                m.uid = std::string(e->uid);
            } else {
                m.size = e->size;
            }
        }
    });
    return out;
}

// UIDLs this source already has in the store.
std::set<std::string> stored_uids(store::mime_store& store, const backup_settings& s) {
    std::set<std::string> out;
    store::query_options q;
    q.limit = store::query_options::unlimited;
    q.mailbox = s.mailbox;
    auto r = store.query(q);
    if (!r) return out;
    for (const auto& it : r->items) {
        if (it.source_id == s.source_id) out.insert(it.guid);
    }
    return out;
}

// The RETRs in flight: one store writer each, filled as the body streams in.
class retrieval {
public:
    retrieval(pop3_link& link, store::mime_store& store, const backup_settings& s,
              backup_summary& sum, progress_meter& progress)
        : link_(link), store_(store), s_(s), sum_(sum), progress_(progress) {}

    void fetch(std::uint32_t number, const server_message& m) {
        core::request r;
        r.kind = core::request_kind::retr;
        r.number = number;
        pending_[link_.session().submit(r)] = {number, m.uid, nullptr};
    }

    void on_event(const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a)) return on_response(*r);
        if (const auto* b = std::get_if<ca::body>(&a)) return on_body(*b);
        if (const auto* e = std::get_if<ca::body_end>(&a)) return on_body_end(*e);
    }

private:
    struct job {
        std::uint32_t number = 0;
        std::string uid;
        std::unique_ptr<store::item_writer> writer;
        bool broken = false;
    };

    void on_response(const ca::response& r) {
        if (r.kind == core::request_kind::dele) {
            if (r.ok) ++sum_.deleted;
            return;
        }
        auto it = pending_.find(r.id);
        if (it == pending_.end()) return;
        if (!r.ok) {
            report(fmt::format("izypop3: RETR {} refused by the server: -ERR {}{}",
                               it->second.number,
                               r.code.empty() ? "" : "[" + std::string(r.code) + "] ",
                               terminal_safe(std::string(r.text))));
            ++sum_.failed;
            progress_.message_done();
            pending_.erase(it);
            return;
        }
        store::item meta;
        meta.guid = it->second.uid;
        meta.source_id = s_.source_id;
        meta.mailbox = s_.mailbox;
        auto w = store_.begin_add(std::move(meta));
        if (!w) {
            report(fmt::format("izypop3: cannot store message {}: {}; check the store's "
                               "space and permissions",
                               it->second.number, w.error().message()));
            it->second.broken = true;
            return;
        }
        it->second.writer = std::move(*w);
    }

    void on_body(const ca::body& b) {
        progress_.add_octets(b.data.size());
        auto it = pending_.find(b.id);
        if (it == pending_.end() || !it->second.writer || it->second.broken) return;
        if (auto ec = it->second.writer->write(b.data)) {
            report(fmt::format("izypop3: cannot store message {}: {}; check the store's "
                               "space and permissions",
                               it->second.number, ec.message()));
            it->second.broken = true;
            it->second.writer->abort();
        }
    }

    void on_body_end(const ca::body_end& e) {
        auto it = pending_.find(e.id);
        if (it == pending_.end()) return;
        job j = std::move(it->second);
        pending_.erase(it);
        progress_.message_done();
        if (j.broken || !j.writer || e.ec) {
            ++sum_.failed;
            return;
        }
        auto outcome = j.writer->commit();
        if (!outcome) {
            report(fmt::format("izypop3: cannot commit message {} to the store: {}; it stays "
                               "on the server",
                               j.number, outcome.error().message()));
            ++sum_.failed;
            return;
        }
        sum_.bytes += e.octets;
        switch (*outcome) {
            case store::add_outcome::added: ++sum_.fetched; break;
            case store::add_outcome::duplicate: ++sum_.duplicates; break;
            case store::add_outcome::already_present: ++sum_.already_stored; break;
        }
        if (s_.delete_stored) {  // durable now: the store committed before this DELE
            core::request d;
            d.kind = core::request_kind::dele;
            d.number = j.number;
            link_.session().submit(d);
        }
    }

    void report(const std::string& text) { progress_.note(text); }

    pop3_link& link_;
    store::mime_store& store_;
    const backup_settings& s_;
    backup_summary& sum_;
    progress_meter& progress_;
    std::map<std::uint64_t, job> pending_;
};

}  // namespace

backup_summary run_backup(pop3_link& link, store::mime_store& store,
                          const backup_settings& settings, std::ostream& progress) {
    backup_summary sum;
    const auto messages = list_maildrop(link);
    if (link.failure() != link_failure::none) return sum;
    const auto known = settings.selection.only_new ? stored_uids(store, settings)
                                                   : std::set<std::string>{};
    std::vector<std::pair<std::uint32_t, const server_message*>> chosen;
    for (const auto& [number, m] : messages) {
        if (!settings.selection.contains(number)) continue;
        if (known.contains(m.uid)) {
            ++sum.already_stored;
            // Stored by an earlier run whose deletions never took effect (it was killed, or
            // the server refused its QUIT): durable in the store, so it may go now.
            if (settings.delete_stored) {
                core::request d;
                d.kind = core::request_kind::dele;
                d.number = number;
                link.session().submit(d);
            }
            continue;
        }
        if (settings.max_size != 0 && m.size > settings.max_size) {
            ++sum.skipped_large;
            continue;
        }
        if (settings.limit != 0 && chosen.size() >= settings.limit) break;
        chosen.emplace_back(number, &m);
    }
    std::uint64_t octets = 0;
    for (const auto& c : chosen) octets += c.second->size;
    progress_meter meter(progress, settings.progress_on_terminal, chosen.size(), octets);
    retrieval r(link, store, settings, sum, meter);
    for (const auto& c : chosen) r.fetch(c.first, *c.second);
    link.pump([&r](const core::client_action_t& a) { r.on_event(a); });
    meter.finish();
    if (link.failure() != link_failure::none) return sum;
    sum.quit_ok = link.quit();
    if (!sum.quit_ok) {
        // Without a +OK to QUIT the server deletes nothing; the next run sends DELE again.
        if (settings.delete_stored && link.failure() == link_failure::none) {
            progress << fmt::format("izypop3: the server refused QUIT ({}): it deleted "
                                    "nothing; every message is in the store, and the next run "
                                    "with delete true deletes them\n",
                                    terminal_safe(link.quit_refusal()));
        }
        sum.deleted = 0;
    }
    return sum;
}

}  // namespace izypop3::app
