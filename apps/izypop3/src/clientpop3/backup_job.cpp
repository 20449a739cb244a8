// The backup run.

#include "clientpop3/backup_job.hpp"

#include "clientpop3/failure_record.hpp"
#include "clientpop3/progress_meter.hpp"
#include "clientpop3/server_listing.hpp"
#include "clientpop3/store_holdings.hpp"
#include "common/terminal_text.hpp"

#include <izypop3/core/errc.hpp>
#include <izypop3/core/maildrop_listing.hpp>

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>
#include <variant>

namespace izypop3::app {

namespace ca = core::client_action;

namespace {

// Committed messages wait for a flush of the store (one syncfs or one transaction for the
// whole batch) before their DELEs go out. A flush runs on another thread while the next
// messages arrive; the next one starts once it is done and flush_every messages wait, or
// the oldest has waited flush_after, so a slow disk gets larger batches rather than
// stalling the link, and a slow link still sees its messages durable (and deleted) soon.
// Past max_unflushed messages or octets the link waits for the running flush: a crash
// loses at most that much work (the messages stay on the server and are fetched again).
constexpr std::size_t flush_every = 256;
constexpr std::chrono::milliseconds flush_after{100};
constexpr std::size_t max_unflushed = 4096;
constexpr std::uint64_t max_unflushed_octets = 256 * 1024 * 1024;

// What the run knows across its connections, by UID (message numbers belong to one session).
struct run_state {
    std::set<std::string> done;      ///< stored, recorded as failed, or given up on
    std::set<std::string> verified;  ///< durably in the store: safe to DELE
};

void delete_on_server(pop3_link& link, std::uint32_t number) {
    core::request d;
    d.kind = core::request_kind::dele;
    d.number = number;
    link.session().submit(d);
}

// The RETRs of one session: one store writer each, filled as the body streams in, never
// past the message's cap. A finished message is committed at once, and is deleted on the
// server only after a store flush() that started after its commit returned success. A
// message that fails on the server's side (-ERR, a body past its cap, the connection lost
// mid-body) is recorded as pop3failed.
class retrieval {
  public:
    retrieval(pop3_link& link, store::mime_store& store, const backup_settings& s,
              backup_summary& sum, progress_meter& progress, run_state& state)
        : link_(link), store_(store), s_(s), sum_(sum), progress_(progress), state_(state) {}

    /// After the session: a body that was streaming when the link broke is recorded as
    /// failed (unless the user interrupted), every finished message is committed and the
    /// store flushed; with `may_delete` (the link still works) the DELEs that are now safe
    /// go out. True when DELEs went out.
    bool finish(bool may_delete) {
        if (!may_delete && link_.failure() != link_failure::interrupted) record_cut_body();
        may_delete_ = may_delete;
        const auto before = deletes_sent_;
        finish_flush();
        start_flush();
        finish_flush();
        return deletes_sent_ != before;
    }

    /// A message failed in a way that also ended the connection: worth a new one.
    bool connection_lost_to_a_message() const noexcept { return lost_to_message_; }

    void fetch(const core::listed_message& m) {
        core::request r;
        r.kind = core::request_kind::retr;
        r.number = m.number;
        // Never more than the server announced, give or take line-end counting (issue 12).
        r.max_octets = core::retr_cap(m.size, s_.max_size);
        job j;
        j.number = m.number;
        j.uid = m.uid;
        j.listed = m.size;
        j.cap = r.max_octets;
        pending_[link_.session().submit(r)] = std::move(j);
    }

    void on_event(const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a))
            on_response(*r);
        else if (const auto* b = std::get_if<ca::body>(&a))
            on_body(*b);
        else if (const auto* e = std::get_if<ca::body_end>(&a))
            on_body_end(*e);
        settle();
    }

  private:
    struct job {
        std::uint32_t number = 0;
        std::string uid;
        std::uint64_t listed = 0, cap = 0;
        std::unique_ptr<store::item_writer> writer;
        bool started = false;  // +OK came: the body is on its way
        bool broken = false;
        std::uint64_t octets = 0;
    };
    struct committed_message {
        std::uint32_t number = 0;
        std::string uid;
    };

    void on_response(const ca::response& r) {
        if (r.kind == core::request_kind::dele) {
            if (r.ok) ++sum_.deleted;
            return;
        }
        auto it = pending_.find(r.id);
        if (it == pending_.end()) return;
        job& j = it->second;
        if (!r.ok) {
            failed_on_server(j, fmt::format("the server refused RETR {}: -ERR {}{}", j.number,
                                            r.code.empty() ? "" : "[" + std::string(r.code) + "] ",
                                            terminal_safe(std::string(r.text))));
            pending_.erase(it);
            return;
        }
        j.started = true;
        store::item meta;
        meta.guid = j.uid;
        meta.source_id = s_.source_id;
        meta.mailbox = s_.mailbox;
        auto w = store_.begin_add(std::move(meta));
        if (!w) {
            report(
                fmt::format("izypop3: cannot store message {}: {}; check the store's "
                            "space and permissions",
                            j.number, w.error().message()));
            j.broken = true;
            return;
        }
        j.writer = std::move(*w);
    }

    void on_body(const ca::body& b) {
        progress_.add_octets(b.data.size());
        auto it = pending_.find(b.id);
        if (it == pending_.end() || !it->second.writer || it->second.broken) return;
        job& j = it->second;
        if (auto ec = j.writer->write(b.data)) {
            report(
                fmt::format("izypop3: cannot store message {}: {}; check the store's "
                            "space and permissions",
                            j.number, ec.message()));
            j.broken = true;
            j.writer->abort();
        }
    }

    void on_body_end(const ca::body_end& e) {
        auto it = pending_.find(e.id);
        if (it == pending_.end()) return;
        job j = std::move(it->second);
        pending_.erase(it);
        if (e.ec == core::errc::body_too_large) {
            // Nothing of it is kept, and the session fails next: the connection is gone.
            if (j.writer) j.writer->abort();
            lost_to_message_ = true;
            failed_on_server(j, fmt::format("the server sent more than {} octets for it, but "
                                            "LIST announced {}; the connection was dropped",
                                            j.cap, j.listed));
            return;
        }
        progress_.message_done();
        if (j.broken || !j.writer || e.ec) {
            ++sum_.failed;
            state_.done.insert(j.uid);
            return;
        }
        j.octets = e.octets;
        commit(j);
    }

    // The body that was streaming when the link broke cannot be completed on this
    // connection: what came of it is dropped and the message recorded.
    void record_cut_body() {
        for (auto it = pending_.begin(); it != pending_.end(); ++it) {
            if (!it->second.started) continue;
            job j = std::move(it->second);
            pending_.erase(it);
            if (j.writer) j.writer->abort();
            lost_to_message_ = true;
            failed_on_server(j, "the connection ended in the middle of the message (" +
                                    terminal_safe(link_.error_text()) + ")");
            return;
        }
    }

    // Counted, reported, and recorded in the store as pop3failed; the message stays on the
    // server and the next run retries it.
    void failed_on_server(const job& j, const std::string& reason) {
        ++sum_.failed;
        progress_.message_done();
        state_.done.insert(j.uid);
        report(
            fmt::format("izypop3: message {} (UID {}) not stored: {}; recorded as "
                        "pop3failed, the next run tries again",
                        j.number, terminal_safe(j.uid), reason));
        failed_fetch f{j.uid, s_.source_id, s_.mailbox, j.number, reason};
        if (auto ec = record_failed_fetch(store_, f)) {
            report(
                fmt::format("izypop3: cannot record message {} as pop3failed in the store: "
                            "{}",
                            j.number, ec.message()));
            return;
        }
        records_to_flush_ = true;
    }

    // Hands the finished flush's messages on (DELE), and starts the next flush when enough
    // messages wait; past the bounds, waits for the running flush first.
    void settle() {
        using namespace std::chrono_literals;
        if (flush_.valid() && flush_.wait_for(0s) == std::future_status::ready) finish_flush();
        if (committed_.size() >= max_unflushed || unflushed_octets_ >= max_unflushed_octets)
            finish_flush();
        if (!flush_.valid() && !committed_.empty() &&
            (committed_.size() >= flush_every ||
             std::chrono::steady_clock::now() - first_unflushed_ >= flush_after))
            start_flush();
    }

    void commit(job& j) {
        state_.done.insert(j.uid);
        auto outcome = j.writer->commit();
        if (!outcome) {
            report(
                fmt::format("izypop3: cannot commit message {} to the store: {}; it stays "
                            "on the server",
                            j.number, outcome.error().message()));
            ++sum_.failed;
            return;
        }
        sum_.bytes += j.octets;
        switch (*outcome) {
            case store::add_outcome::added:
                ++sum_.fetched;
                break;
            case store::add_outcome::duplicate:
                ++sum_.duplicates;
                break;
            case store::add_outcome::already_present:
                ++sum_.already_stored;
                break;
        }
        // All three outcomes mean the store holds exactly these octets under this source,
        // once a flush() that starts from now on returns.
        if (committed_.empty()) first_unflushed_ = std::chrono::steady_clock::now();
        committed_.push_back({j.number, j.uid});
        unflushed_octets_ += j.octets;
    }

    // Starts making the committed messages durable on another thread, unless a flush runs.
    void start_flush() {
        if (flush_.valid() || (committed_.empty() && !records_to_flush_)) return;
        records_to_flush_ = false;
        flushing_.swap(committed_);
        unflushed_octets_ = 0;
        flush_ = std::async(std::launch::async, [this] { return store_.flush(); });
    }

    // Waits for the running flush; then its messages are durable and, with delete true,
    // their DELEs go out.
    void finish_flush() {
        if (!flush_.valid()) return;
        const auto ec = flush_.get();
        std::vector<committed_message> batch;
        batch.swap(flushing_);
        if (ec) {
            // The store's batch may have taken in messages committed while the flush ran,
            // and given them up with the rest: none of those may count as stored either.
            const auto lost = batch.size() + committed_.size();
            committed_.clear();
            unflushed_octets_ = 0;
            report(
                fmt::format("izypop3: the store could not make {} messages durable: {}; "
                            "they stay on the server",
                            lost, ec.message()));
            sum_.failed += lost;
            return;
        }
        const bool deleting = s_.delete_stored && may_delete_;
        for (const auto& m : batch) {
            state_.verified.insert(m.uid);
            if (deleting) delete_on_server(link_, m.number);
        }
        if (deleting && !batch.empty()) ++deletes_sent_;
    }

    void report(const std::string& text) { progress_.note(text); }

    pop3_link& link_;
    store::mime_store& store_;
    const backup_settings& s_;
    backup_summary& sum_;
    progress_meter& progress_;
    run_state& state_;
    std::map<std::uint64_t, job> pending_;
    std::vector<committed_message> committed_;  // committed since the last flush started
    std::uint64_t unflushed_octets_ = 0;        // theirs
    std::chrono::steady_clock::time_point first_unflushed_;
    std::vector<committed_message> flushing_;  // in the running flush
    bool records_to_flush_ = false;
    bool may_delete_ = true;
    bool lost_to_message_ = false;
    std::uint64_t deletes_sent_ = 0;  // batches whose DELEs were submitted
    // Last: destroying a running flush's future waits for it, before what it uses goes.
    std::future<boost::system::error_code> flush_;
};

// The messages a run fetches, in server order, with their total size for the progress
// meter. Counts what it passes over; marks for DELE what the store verifiably holds.
struct chosen_messages {
    std::vector<core::listed_message> list;
    std::uint64_t octets = 0;
};

chosen_messages choose(const std::vector<core::listed_message>& messages,
                       const store_holdings& held, const backup_settings& settings,
                       backup_summary& sum, run_state& state) {
    chosen_messages chosen;
    for (const auto& m : messages) {
        if (!settings.selection.contains(m.number)) continue;
        if (settings.selection.only_new && held.holds(m.uid)) {
            // Stored by an earlier run whose deletions never took effect. It may go only if
            // the stored copy is this message: same UID from this source, same size. A copy
            // of another size is fetched again when deleting, so that the store compares
            // the octets (SECURITY row 6 of the backup order: never DELE an unverified copy).
            if (held.holds(m.uid, m.size) || !settings.delete_stored) {
                ++sum.already_stored;
                if (held.holds(m.uid, m.size)) state.verified.insert(m.uid);
                state.done.insert(m.uid);
                continue;
            }
        }
        if (settings.max_size != 0 && m.size > settings.max_size) {
            ++sum.skipped_large;
            continue;
        }
        if (settings.limit != 0 && chosen.list.size() >= settings.limit) break;
        chosen.list.push_back(m);
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
            "izypop3: the server refused QUIT ({}): it deleted nothing; every message is in "
            "the store, and the next run with delete true deletes them\n",
            terminal_safe(link.quit_refusal()));
    }
    sum.deleted = 0;
}

// One connection's work: DELE what is verified, RETR what is still to do (by UID: numbers
// may differ on a new connection). Returns the retrieval's verdict on the connection.
bool run_session(pop3_link& link, store::mime_store& store,
                 const std::vector<core::listed_message>& listed,
                 const std::vector<core::listed_message>& chosen, const backup_settings& settings,
                 backup_summary& sum, progress_meter& meter, run_state& state) {
    std::map<std::string, std::uint32_t> number_of;
    for (const auto& m : listed) number_of[m.uid] = m.number;
    sum.deleted = 0;  // DELEs of an abandoned connection never took effect
    if (settings.delete_stored) {
        for (const auto& uid : state.verified)
            if (auto n = number_of.find(uid); n != number_of.end())
                delete_on_server(link, n->second);
    }
    retrieval r(link, store, settings, sum, meter, state);
    for (const auto& m : chosen) {
        if (state.done.contains(m.uid)) continue;
        auto n = number_of.find(m.uid);
        if (n == number_of.end()) continue;  // gone from the server since the first listing
        core::listed_message now = m;
        now.number = n->second;
        r.fetch(now);
    }
    const auto sink = [&r](const core::client_action_t& a) { r.on_event(a); };
    link.pump(sink);
    // Whatever happened to the link, what was received is committed and made durable.
    if (r.finish(link.failure() == link_failure::none)) link.pump(sink);
    return r.connection_lost_to_a_message();
}

// STAT, LIST and UIDL, believed only when they agree; otherwise sum.refused says why.
std::optional<std::vector<core::listed_message>> checked_listing(pop3_link& link,
                                                                 const backup_settings& settings,
                                                                 backup_summary& sum,
                                                                 std::string_view consequence,
                                                                 std::string* without_uidl) {
    std::string problem;
    auto listed = list_server_messages(link, settings.max_messages, true, problem, without_uidl);
    if (!listed && !problem.empty())
        sum.refused =
            fmt::format("the server's listing is not believable, {}: {}", consequence, problem);
    return listed;
}

}  // namespace

backup_summary run_backup(pop3_link& link, store::mime_store& store,
                          const backup_settings& settings, std::ostream& progress) {
    backup_summary sum;
    std::string without_uidl;
    auto listed =
        checked_listing(link, settings, sum, "nothing was fetched or deleted", &without_uidl);
    if (!listed) return sum;
    // Said once: a reconnect lists by fingerprint again without repeating it.
    if (!without_uidl.empty()) progress << fmt::format("izypop3: note: {}\n", without_uidl);
    // Only `query new` needs to know what the store holds (query all lets the store compare
    // the octets of every message it is given).
    store_holdings held;
    if (settings.selection.only_new) {
        std::string problem;
        auto h = read_holdings(store, settings.mailbox, settings.source_id, problem);
        if (!h) {
            sum.refused = "cannot read what the store holds (" + problem +
                          "), so nothing was fetched or deleted; check the store";
            return sum;
        }
        held = std::move(*h);
    }
    run_state state;
    const chosen_messages chosen = choose(*listed, held, settings, sum, state);
    progress_meter meter(progress, settings.progress_on_terminal, chosen.list.size(),
                         chosen.octets);
    store.set_group_commit(true);
    for (;;) {
        const bool lost =
            run_session(link, store, *listed, chosen.list, settings, sum, meter, state);
        if (link.failure() == link_failure::none) break;
        if (!lost || sum.reconnects >= settings.max_reconnects) break;
        // A message broke the connection; the others deserve a new one (issue 12).
        ++sum.reconnects;
        meter.note(
            fmt::format("izypop3: connecting again ({} of at most {}) for the other "
                        "messages",
                        sum.reconnects, settings.max_reconnects));
        if (!link.reconnect()) break;
        listed =
            checked_listing(link, settings, sum, "nothing more was fetched or deleted", nullptr);
        if (!listed) break;
    }
    meter.finish();
    if (link.failure() != link_failure::none || !sum.refused.empty()) return sum;
    quit_after_backup(link, settings, sum, progress);
    return sum;
}

}  // namespace izypop3::app
