#pragma once
// The backup's progress on stderr: on a terminal one line redrawn in place (messages, bytes,
// rate, ETA) at most ten times a second; elsewhere (a log file, cron mail) a plain line every
// few seconds, so a long run shows it is alive without flooding the log.

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace izypop3::app {

class progress_meter {
public:
    using clock = std::chrono::steady_clock;

    /// `now` is injectable for tests; `terminal` chooses the redrawn line.
    progress_meter(std::ostream& out, bool terminal, std::uint64_t total_messages,
                   std::uint64_t total_octets,
                   std::function<clock::time_point()> now = &clock::now);

    /// Octets of a message body arrived.
    void add_octets(std::uint64_t n);
    /// One message is finished (stored, or failed).
    void message_done();
    /// Writes `text` as a line of its own, breaking a redrawn line first.
    void note(const std::string& text);
    /// Ends the redrawn line, if one is showing, and prints the final state on a terminal.
    void finish();

    /// The state as one line, without line end: "12/40 messages, 3.2 of 10.5 MB, 4.1 MB/s, ETA 2 s".
    std::string line() const;

private:
    void maybe_show(bool force);

    std::ostream& out_;
    const bool terminal_;
    const std::uint64_t total_messages_, total_octets_;
    std::function<clock::time_point()> now_;
    const clock::time_point started_;
    clock::time_point last_shown_;
    std::uint64_t messages_ = 0, octets_ = 0;
    bool line_open_ = false;  // a redrawn line is on the screen without its line end
};

}  // namespace izypop3::app
