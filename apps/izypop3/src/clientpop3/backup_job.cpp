// The backup run.

#include "clientpop3/backup_job.hpp"

#include "clientpop3/progress_meter.hpp"
#include "clientpop3/sync_pool.hpp"
#include "common/terminal_text.hpp"

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <future>
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

// How many finished messages may wait for their data to reach the disk, and how many
// committed ones for the flush that makes them durable before their DELEs go out.
constexpr std::size_t max_syncing = 64;
constexpr std::size_t flush_every = 256;

// The RETRs in flight: one store writer each, filled as the body streams in. A finished
// message has its data synced on the pool while later ones arrive, is committed in arrival
// order, and is deleted on the server only after the store's flush() made it durable.
class retrieval {
public:
    retrieval(pop3_link& link, store::mime_store& store, const backup_settings& s,
              backup_summary& sum, progress_meter& progress)
        : link_(link), store_(store), s_(s), sum_(sum), progress_(progress), pool_(4) {}

    /// Commits every finished message and flushes the store; with `may_delete` (the link
    /// still works) also sends the DELEs that are now safe. True when DELEs went out.
    bool finish(bool may_delete) {
        settle(true);
        may_delete_ = may_delete;
        return flush_and_delete();
    }

    void fetch(std::uint32_t number, const server_message& m) {
        core::request r;
        r.kind = core::request_kind::retr;
        r.number = number;
        pending_[link_.session().submit(r)] = {number, m.uid, nullptr};
    }

    void on_event(const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a)) on_response(*r);
        else if (const auto* b = std::get_if<ca::body>(&a)) on_body(*b);
        else if (const auto* e = std::get_if<ca::body_end>(&a)) on_body_end(*e);
        settle(false);
    }

private:
    struct job {
        std::uint32_t number = 0;
        std::string uid;
        std::unique_ptr<store::item_writer> writer;
        bool broken = false;
        std::uint64_t octets = 0;
    };
    struct syncing_job {
        job j;
        std::future<boost::system::error_code> synced;
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
        if (syncing_.size() >= max_syncing) commit_front();
        j.octets = e.octets;
        auto synced = pool_.start(*j.writer);
        syncing_.push_back({std::move(j), std::move(synced)});
    }

    // Commits the messages whose data is on disk, oldest first; with `all`, waits for every
    // one. A commit never overtakes an older message still syncing.
    void settle(bool all) {
        using namespace std::chrono_literals;
        while (!syncing_.empty() &&
               (all || syncing_.front().synced.wait_for(0s) == std::future_status::ready))
            commit_front();
        if (committed_.size() >= flush_every) flush_and_delete();
    }

    void commit_front() {
        auto [j, synced] = std::move(syncing_.front());
        syncing_.pop_front();
        if (auto ec = synced.get()) {
            report(fmt::format("izypop3: cannot store message {}: {}; it stays on the server",
                               j.number, ec.message()));
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
        sum_.bytes += j.octets;
        switch (*outcome) {
            case store::add_outcome::added: ++sum_.fetched; break;
            case store::add_outcome::duplicate: ++sum_.duplicates; break;
            case store::add_outcome::already_present: ++sum_.already_stored; break;
        }
        committed_.push_back(j.number);
    }

    // Makes the committed messages durable, then asks the server to delete them (with
    // delete true); true when DELEs went out.
    bool flush_and_delete() {
        if (committed_.empty()) return false;
        if (auto ec = store_.flush()) {
            report(fmt::format("izypop3: the store could not make {} messages durable: {}; "
                               "they stay on the server",
                               committed_.size(), ec.message()));
            sum_.failed += committed_.size();
            committed_.clear();
            return false;
        }
        const bool deleting = s_.delete_stored && may_delete_;
        for (auto number : committed_) {
            if (!deleting) break;
            core::request d;
            d.kind = core::request_kind::dele;
            d.number = number;
            link_.session().submit(d);
        }
        committed_.clear();
        return deleting;
    }

    void report(const std::string& text) { progress_.note(text); }

    pop3_link& link_;
    store::mime_store& store_;
    const backup_settings& s_;
    backup_summary& sum_;
    progress_meter& progress_;
    std::map<std::uint64_t, job> pending_;
    std::deque<syncing_job> syncing_;
    std::vector<std::uint32_t> committed_;  // committed, not yet flushed
    bool may_delete_ = true;
    sync_pool pool_;  // last: its threads stop before the jobs they may be syncing go
};

// The messages a run fetches, in server order, with their total size for the progress
// meter. Counts what it passes over; sends DELE for what an earlier run stored already.
struct chosen_messages {
    std::vector<std::pair<std::uint32_t, const server_message*>> list;
    std::uint64_t octets = 0;
};

void delete_on_server(pop3_link& link, std::uint32_t number) {
    core::request d;
    d.kind = core::request_kind::dele;
    d.number = number;
    link.session().submit(d);
}

chosen_messages choose(pop3_link& link, const std::map<std::uint32_t, server_message>& messages,
                       const std::set<std::string>& known, const backup_settings& settings,
                       backup_summary& sum) {
    chosen_messages chosen;
    for (const auto& [number, m] : messages) {
        if (!settings.selection.contains(number)) continue;
        if (known.contains(m.uid)) {
            ++sum.already_stored;
            // Stored by an earlier run whose deletions never took effect (it was killed, or
            // the server refused its QUIT): durable in the store, so it may go now.
            if (settings.delete_stored) delete_on_server(link, number);
            continue;
        }
        if (settings.max_size != 0 && m.size > settings.max_size) {
            ++sum.skipped_large;
            continue;
        }
        if (settings.limit != 0 && chosen.list.size() >= settings.limit) break;
        chosen.list.emplace_back(number, &m);
        chosen.octets += m.size;
    }
    return chosen;
}

// QUIT makes the DELEs take effect; without its +OK the server deleted nothing.
void quit_after_backup(pop3_link& link, const backup_settings& settings, backup_summary& sum,
                       std::ostream& progress) {
    sum.quit_ok = link.quit();
    if (sum.quit_ok) return;
    // The next run sends DELE again.
    if (settings.delete_stored && link.failure() == link_failure::none) {
        progress << fmt::format(
            "izypop3: the server refused QUIT ({}): it deleted "
            "nothing; every message is in the store, and the next run "
            "with delete true deletes them\n",
            terminal_safe(link.quit_refusal()));
    }
    sum.deleted = 0;
}

}  // namespace

backup_summary run_backup(pop3_link& link, store::mime_store& store,
                          const backup_settings& settings, std::ostream& progress) {
    backup_summary sum;
    const auto messages = list_maildrop(link);
    if (link.failure() != link_failure::none) return sum;
    const auto known =
        settings.selection.only_new ? stored_uids(store, settings) : std::set<std::string>{};
    const chosen_messages chosen = choose(link, messages, known, settings, sum);
    progress_meter meter(progress, settings.progress_on_terminal, chosen.list.size(),
                         chosen.octets);
    store.set_group_commit(true);
    retrieval r(link, store, settings, sum, meter);
    for (const auto& [number, m] : chosen.list) r.fetch(number, *m);
    const auto sink = [&r](const core::client_action_t& a) { r.on_event(a); };
    link.pump(sink);
    // Whatever happened to the link, what was received is committed and made durable.
    if (r.finish(link.failure() == link_failure::none)) link.pump(sink);
    meter.finish();
    if (link.failure() != link_failure::none) return sum;
    quit_after_backup(link, settings, sum, progress);
    return sum;
}

}  // namespace izypop3::app
