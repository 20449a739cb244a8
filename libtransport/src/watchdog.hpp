#pragma once
// The deadline of a connection's current wait, kept with one timer that is rarely touched.
// Setting a deadline only records it; the timer is moved only when a deadline comes before
// the moment it is set for, and otherwise fires at that moment, finds the deadline moved
// on, and waits again. A connection that sets a deadline for every read and write (the
// idle timeout, the send timeout) thus costs a timer operation once per timeout period, not
// two per operation. When a deadline passes, the callback of run() is called (the
// connection cancels its socket, which ends the wait with operation_aborted).
//
// Single-threaded: everything on the executor's thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>

namespace izypop3::transport::detail {

class watchdog {
  public:
    using clock = std::chrono::steady_clock;

    explicit watchdog(const boost::asio::any_io_executor& ex) : timer_(ex) {}

    /// The current wait must end by `t`.
    void arm_until(clock::time_point t);
    /// No deadline (between waits).
    void disarm() noexcept { deadline_ = clock::time_point::max(); }
    clock::time_point deadline() const noexcept { return deadline_; }

    /// Calls `expired` each time a deadline passes, until stop().
    boost::asio::awaitable<void> run(std::function<void()> expired);
    /// Ends run(); it returns at once.
    void stop();

  private:
    boost::asio::steady_timer timer_;
    clock::time_point deadline_ = clock::time_point::max();
    clock::time_point set_for_ = clock::time_point::max();  // what the timer waits for
    bool stopped_ = false;
};

}  // namespace izypop3::transport::detail
