#include "watchdog.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace izypop3::transport::detail {

namespace asio = boost::asio;

void watchdog::arm_until(clock::time_point t) {
    deadline_ = t;
    if (t >= set_for_ || stopped_) return;
    // Earlier than the timer: move it (the pending wait ends, and run() waits again).
    set_for_ = t;
    timer_.expires_at(t);
}

asio::awaitable<void> watchdog::run(std::function<void()> expired) {
    while (!stopped_) {
        set_for_ = deadline_;
        timer_.expires_at(set_for_);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (stopped_) break;
        if (clock::now() >= deadline_) {
            deadline_ = clock::time_point::max();
            expired();
        }
    }
}

void watchdog::stop() {
    stopped_ = true;
    timer_.cancel();
}

}  // namespace izypop3::transport::detail
