#include "clientpop3/progress_meter.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace izypop3::app {
namespace {

constexpr auto terminal_interval = std::chrono::milliseconds(100);
constexpr auto log_interval = std::chrono::seconds(5);

std::string megabytes(std::uint64_t octets) {
    return fmt::format("{:.1f}", static_cast<double>(octets) / 1e6);
}

std::string duration_text(double seconds) {
    const auto s = static_cast<std::uint64_t>(seconds + 0.5);
    if (s < 60) return fmt::format("{} s", s);
    if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
    return fmt::format("{} h {} min", s / 3600, s % 3600 / 60);
}

}  // namespace

progress_meter::progress_meter(std::ostream& out, bool terminal, std::uint64_t total_messages,
                               std::uint64_t total_octets,
                               std::function<clock::time_point()> now)
    : out_(out), terminal_(terminal), total_messages_(total_messages),
      total_octets_(total_octets), now_(std::move(now)), started_(now_()),
      last_shown_(started_) {}

std::string progress_meter::line() const {
    const double secs = std::chrono::duration<double>(now_() - started_).count();
    std::string s = fmt::format("{}/{} messages, {} of {} MB", messages_, total_messages_,
                                megabytes(octets_), megabytes(total_octets_));
    if (secs < 0.5 || octets_ == 0) return s;  // too early for a rate worth showing
    const double rate = static_cast<double>(octets_) / secs;
    s += fmt::format(", {} MB/s", megabytes(static_cast<std::uint64_t>(rate)));
    if (octets_ < total_octets_)
        s += ", ETA " + duration_text(static_cast<double>(total_octets_ - octets_) / rate);
    return s;
}

void progress_meter::maybe_show(bool force) {
    const auto t = now_();
    if (!force && t - last_shown_ < (terminal_ ? terminal_interval : std::chrono::duration_cast<clock::duration>(log_interval)))
        return;
    last_shown_ = t;
    if (terminal_) {
        // \x1b[K clears what a longer earlier line left to the right.
        out_ << "\rizypop3: " << line() << "\x1b[K" << std::flush;
        line_open_ = true;
    } else {
        out_ << "izypop3: " << line() << '\n' << std::flush;
    }
}

void progress_meter::add_octets(std::uint64_t n) {
    octets_ += n;
    maybe_show(false);
}

void progress_meter::message_done() {
    ++messages_;
    maybe_show(false);
}

void progress_meter::note(const std::string& text) {
    if (line_open_) out_ << '\n';
    line_open_ = false;
    out_ << text << '\n';
}

void progress_meter::finish() {
    if (terminal_ && total_messages_ > 0) maybe_show(true);
    if (line_open_) out_ << '\n' << std::flush;
    line_open_ = false;
}

}  // namespace izypop3::app
