#pragma once
// The deadline of a connection's current wait, kept with one timer that is rarely touched.
// Setting a deadline only records it; the timer is moved only when a deadline comes before
// the moment it is set for, and otherwise fires at that moment, finds the deadline moved
// on, and waits again. A connection that sets a deadline for every read and write (the
// idle timeout, the send timeout) thus costs a timer operation once per timeout period, not
// two per operation. When a deadline passes, the callback given to start() is called (the
// connection cancels its socket, which ends the wait with operation_aborted).
//
// A timer wait with a plain handler, not a coroutine: an idle connection holds only the
// pending wait, no coroutine frame. Single-threaded: everything on the executor's thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace izypop3::transport::detail {

class watchdog {
  public:
    using clock = std::chrono::steady_clock;

    explicit watchdog(const boost::asio::any_io_executor& ex);
    /// stop() must have been called (the pending wait keeps the state alive until then).
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    /// The current wait must end by `t`.
    void arm_until(clock::time_point t);
    /// No deadline (between waits).
    void disarm() noexcept;
    clock::time_point deadline() const noexcept;

    /// Calls `expired` each time a deadline passes, until stop().
    void start(std::function<void()> expired);
    /// No more calls of `expired`; the timer's wait ends.
    void stop();

  private:
    struct state;
    static void wait(const std::shared_ptr<state>& st);

    std::shared_ptr<state> st_;
};

}  // namespace izypop3::transport::detail
