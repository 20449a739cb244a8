#include "postgres_pool.hpp"

#include <fmt/format.h>

namespace izypop3::store::detail {

pg_pool::pg_pool(pg_connect_options opts, std::size_t poolsize)
    : opts_(std::move(opts)), poolsize_(poolsize == 0 ? 1 : poolsize) {}

pg_pool::~pg_pool() = default;

pg_pool::lease::lease(lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), reused_(other.reused_) {}

pg_pool::lease::~lease() {
    if (conn_) pool_->release(std::move(conn_));
}

boost::system::result<std::unique_ptr<pg_connection>> pg_pool::connect() {
    std::string why;
    auto c = pg_connection::open(opts_, why);
    if (!c) note_error(std::move(why));
    return c;
}

boost::system::result<pg_pool::lease> pg_pool::acquire() {
    std::unique_lock lock(mu_);
    if (!freed_.wait_for(lock, acquire_timeout, [&] { return borrowed_ < poolsize_; })) {
        last_error_ = fmt::format(
            "every connection of the PostgreSQL pool stayed busy for {} s; raise "
            "mimestore.poolsize or look for slow statements in the database",
            acquire_timeout.count());
        return errc::io_error;
    }
    ++borrowed_;
    if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return lease(*this, std::move(c), true);
    }
    lock.unlock();
    auto c = connect();
    if (!c) {
        lock.lock();
        --borrowed_;
        freed_.notify_one();
        return c.error();
    }
    return lease(*this, std::move(*c), false);
}

void pg_pool::release(std::unique_ptr<pg_connection> c) noexcept {
    if (c && !c->reusable()) c->rollback_if_open();
    std::unique_ptr<pg_connection> closing;
    {
        std::lock_guard lock(mu_);
        --borrowed_;
        if (c && c->reusable() && idle_.size() < poolsize_) {
            idle_.push_back(std::move(c));
        } else {
            closing = std::move(c);
        }
    }
    freed_.notify_one();
    // `closing` is closed here, outside the lock.
}

boost::system::result<std::unique_ptr<pg_connection>> pg_pool::take(bool& reused) {
    {
        std::lock_guard lock(mu_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            reused = true;
            return c;
        }
    }
    reused = false;
    return connect();
}

void pg_pool::give_back(std::unique_ptr<pg_connection> c) noexcept {
    if (!c || !c->reusable()) return;
    std::unique_ptr<pg_connection> closing;
    std::lock_guard lock(mu_);
    if (idle_.size() < poolsize_) {
        idle_.push_back(std::move(c));
    } else {
        closing = std::move(c);
    }
}

void pg_pool::drop_idle() noexcept {
    std::vector<std::unique_ptr<pg_connection>> closing;
    std::lock_guard lock(mu_);
    closing.swap(idle_);
}

void pg_pool::note_error(std::string text) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(text);
}

std::string pg_pool::last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
}

}  // namespace izypop3::store::detail
