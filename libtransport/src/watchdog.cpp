#include "watchdog.hpp"

namespace izypop3::transport::detail {

namespace asio = boost::asio;

struct watchdog::state {
    explicit state(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    clock::time_point deadline = clock::time_point::max();
    clock::time_point set_for = clock::time_point::max();  // what the timer waits for
    std::function<void()> expired;
    bool running = false;
};

watchdog::watchdog(const asio::any_io_executor& ex) : st_(std::make_shared<state>(ex)) {}

watchdog::~watchdog() {
    stop();
}

void watchdog::arm_until(clock::time_point t) {
    st_->deadline = t;
    if (t >= st_->set_for || !st_->running) return;
    // Earlier than the timer: move it (the pending wait ends and is made again).
    st_->set_for = t;
    st_->timer.expires_at(t);
}

void watchdog::disarm() noexcept {
    st_->deadline = clock::time_point::max();
}

watchdog::clock::time_point watchdog::deadline() const noexcept {
    return st_->deadline;
}

void watchdog::start(std::function<void()> expired) {
    st_->expired = std::move(expired);
    st_->running = true;
    wait(st_);
}

void watchdog::stop() {
    if (!st_->running) return;
    st_->running = false;
    st_->expired = nullptr;
    st_->timer.cancel();
}

void watchdog::wait(const std::shared_ptr<state>& st) {
    st->set_for = st->deadline;
    st->timer.expires_at(st->set_for);
    st->timer.async_wait([st](boost::system::error_code ec) {
        if (!st->running) return;
        // Cancelled: arm_until moved the timer earlier; wait for the new moment.
        if (!ec && clock::now() >= st->deadline) {
            st->deadline = clock::time_point::max();
            st->expired();
            if (!st->running) return;
        }
        wait(st);
    });
}

}  // namespace izypop3::transport::detail
