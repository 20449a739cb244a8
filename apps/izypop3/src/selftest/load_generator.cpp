#include "selftest/load_generator.hpp"

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace izypop3::app {
namespace {

using clock = std::chrono::steady_clock;

std::string_view outcome_name(transport::session_outcome::kind k) {
    using kind = transport::session_outcome::kind;
    switch (k) {
        case kind::closed:
            return "closed";
        case kind::session_failed:
            return "session_failed";
        case kind::connect_failed:
            return "connect_failed";
        case kind::tls_failed:
            return "tls_failed";
        case kind::timed_out:
            return "timed_out";
        case kind::connection_lost:
            return "connection_lost";
        case kind::interrupted:
            return "interrupted";
    }
    return "unknown";
}

// What every session reports into; shared by the pool's threads.
struct load_state {
    const load_settings& settings;
    transport::client_pool pool;
    const clock::time_point started = clock::now();
    const clock::time_point deadline;

    std::mutex mu;
    std::condition_variable done_cv;
    load_report report;
    std::uint64_t started_sessions = 0;
    std::uint64_t running = 0;
    std::uint64_t held = 0;
    std::atomic<bool> stopping{false};

    load_state(const load_settings& s, transport::client_pool_options po)
        : settings(s), pool(po), deadline(started + s.duration) {}

    // Starts one more session if the count and the time allow; under `mu`.
    // The second of the run `t` falls in; under `mu`.
    load_second& second_locked(clock::time_point t) {
        const auto index = static_cast<std::size_t>(
            std::chrono::duration_cast<std::chrono::seconds>(t - started).count());
        if (report.timeline.size() <= index) report.timeline.resize(index + 1);
        return report.timeline[index];
    }

    bool may_start_locked() const {
        if (stopping.load() || clock::now() >= deadline) return false;
        return settings.sessions == 0 || started_sessions < settings.sessions;
    }
    void spawn_locked(unsigned slot);
};

class load_session final : public transport::session_handler {
  public:
    load_session(load_state& st, unsigned slot) : st_(st), slot_(slot) {}

    void on_event(core::client_session& s, const core::client_action_t& e) override {
        if (std::holds_alternative<core::client_action::logged_in>(e)) {
            on_logged_in(s);
        } else if (auto* r = std::get_if<core::client_action::response>(&e)) {
            on_response(s, *r);
        } else if (auto* b = std::get_if<core::client_action::body>(&e)) {
            octets_ += b->data.size();
            std::lock_guard lock(st_.mu);  // one pool thread: never contended in practice
            st_.second_locked(clock::now()).octets += b->data.size();
        }
    }

    void on_finished(const transport::session_outcome& o) override {
        const auto now = clock::now();
        const double ms = std::chrono::duration<double, std::milli>(now - begun_).count();
        std::lock_guard lock(st_.mu);
        auto& second = st_.second_locked(now);
        auto& rep = st_.report;
        rep.octets += octets_;
        if (holding_) --st_.held;
        --st_.running;
        const bool ended_by_us =
            o.how == transport::session_outcome::kind::interrupted && st_.stopping.load();
        if (o.how == transport::session_outcome::kind::closed) {
            ++rep.completed;
            ++second.completed;
            rep.latencies_ms.push_back(ms);
        } else if (ended_by_us || (holding_ && st_.settings.mode == load_mode::idle)) {
            ++rep.cut_short;
        } else {
            ++second.failed;
            ++rep.errors[std::string(outcome_name(o.how))];
            if (rep.first_error.empty()) rep.first_error = o.text;
        }
        if (st_.may_start_locked()) st_.spawn_locked(slot_);
        if (st_.running == 0) st_.done_cv.notify_all();
    }

  private:
    void on_logged_in(core::client_session& s) {
        {
            const auto ms = std::chrono::duration<double, std::milli>(clock::now() - begun_);
            std::lock_guard lock(st_.mu);
            st_.report.login_ms.push_back(ms.count());
        }
        if (st_.settings.mode == load_mode::idle) {
            std::lock_guard lock(st_.mu);
            holding_ = true;
            ++st_.held;
            st_.report.held_peak = std::max(st_.report.held_peak, st_.held);
            if (st_.held == st_.settings.clients && !st_.report.all_held_seconds)
                st_.report.all_held_seconds =
                    std::chrono::duration<double>(clock::now() - st_.started).count();
            return;
        }
        s.submit({core::request_kind::stat});
        if (st_.settings.mode == load_mode::login) s.submit({core::request_kind::quit});
    }

    void on_response(core::client_session& s, const core::client_action::response& r) {
        if (r.kind != core::request_kind::stat || st_.settings.mode != load_mode::retrall) return;
        if (r.ok) {
            for (std::uint64_t n = 1; n <= r.a; ++n)
                s.submit({core::request_kind::retr, static_cast<std::uint32_t>(n)});
        }
        s.submit({core::request_kind::quit});
    }

    load_state& st_;
    const unsigned slot_;
    const clock::time_point begun_ = clock::now();
    std::uint64_t octets_ = 0;
    bool holding_ = false;
};

void load_state::spawn_locked(unsigned slot) {
    ++started_sessions;
    ++running;
    core::client_config session = settings.session;
    const std::string n = std::to_string(slot);
    for (auto at = session.user.find("%n"); at != std::string::npos;
         at = session.user.find("%n", at + n.size()))
        session.user.replace(at, 2, n);
    if (settings.password_is_user) session.secret = session.user;
    pool.spawn(settings.stream, std::move(session), std::make_shared<load_session>(*this, slot));
}

}  // namespace

std::string_view load_mode_name(load_mode m) {
    switch (m) {
        case load_mode::login:
            return "login";
        case load_mode::retrall:
            return "retrall";
        case load_mode::idle:
            return "idle";
    }
    return "login";
}

std::string_view connection_name(const load_settings& s) {
    if (s.stream.implicit_tls) return "implicit TLS";
    switch (s.session.starttls) {
        case core::starttls_policy::never:
            return "plain";
        case core::starttls_policy::required:
            return "STLS";
        case core::starttls_policy::if_offered:
            break;
    }
    return "STLS when offered";
}

std::uint64_t load_report::error_count() const {
    std::uint64_t n = 0;
    for (const auto& e : errors) n += e.second;
    return n;
}

double nearest_rank(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double load_report::latency_quantile(double q) const { return nearest_rank(latencies_ms, q); }

load_report run_load(const load_settings& settings) {
    transport::client_pool_options po;
    po.threads = std::max(1u, settings.threads);
    po.handle_signals = true;  // Ctrl-C ends the run with a report of what was done
    load_state st(settings, po);
    st.report.started_at = std::chrono::system_clock::now();
    {
        std::lock_guard lock(st.mu);
        for (unsigned i = 1; i <= settings.clients && st.may_start_locked(); ++i)
            st.spawn_locked(i);
    }
    // The clock that ends the run: at the deadline every open session is stopped (an idle
    // run ends only this way).
    std::thread timer([&st] {
        std::unique_lock lock(st.mu);
        st.done_cv.wait_until(lock, st.deadline, [&st] { return st.running == 0; });
        if (st.running != 0) {
            st.stopping = true;
            lock.unlock();
            st.pool.stop();
        }
    });
    st.pool.run();
    {
        std::lock_guard lock(st.mu);
        st.stopping = true;
        st.done_cv.notify_all();
    }
    timer.join();
    load_report rep = std::move(st.report);
    rep.elapsed = clock::now() - st.started;
    // Quiet whole seconds at the end are part of the picture too; the part second the run
    // ended in appears only if something happened in it.
    rep.timeline.resize(std::max(rep.timeline.size(),
                                 static_cast<std::size_t>(std::floor(rep.elapsed.count()))));
    rep.generator_cpu = st.pool.cpu_used();
    rep.generator_threads = po.threads;
    std::sort(rep.latencies_ms.begin(), rep.latencies_ms.end());
    std::sort(rep.login_ms.begin(), rep.login_ms.end());
    return rep;
}

double load_report::generator_ms_per_session() const {
    const auto sessions = completed + error_count();
    return sessions ? generator_cpu.count() * 1000.0 / static_cast<double>(sessions) : 0.0;
}

double load_report::generator_busy_percent() const {
    const double available = elapsed.count() * generator_threads;
    return available > 0 ? 100.0 * generator_cpu.count() / available : 0.0;
}

std::optional<process_usage> read_process_usage(long pid) {
    process_usage u;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    if (!status) return std::nullopt;
    std::string key;
    double kb = 0;
    std::string line;
    while (std::getline(status, line)) {
        std::istringstream fields(line);
        fields >> key >> kb;
        if (key == "VmRSS:") u.rss_mb = kb / 1024.0;
        if (key == "VmHWM:") u.peak_rss_mb = kb / 1024.0;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields 14 and 15 (utime, stime) follow the parenthesised command name.
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
        std::istringstream rest(text.substr(close + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stod(field);
            if (i == 15) stime = std::stod(field);
        }
        u.cpu_seconds = (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    return u;
}

}  // namespace izypop3::app
