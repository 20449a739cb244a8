#include "clientpop3/sync_pool.hpp"

namespace izypop3::app {

sync_pool::sync_pool(unsigned threads) {
    for (unsigned i = 0; i < std::max(1u, threads); ++i) threads_.emplace_back([this] { work(); });
}

sync_pool::~sync_pool() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

std::future<boost::system::error_code> sync_pool::start(store::item_writer& w) {
    std::packaged_task<boost::system::error_code()> task([&w] { return w.sync_data(); });
    auto done = task.get_future();
    {
        std::lock_guard lock(mu_);
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return done;
}

void sync_pool::work() {
    for (;;) {
        std::packaged_task<boost::system::error_code()> task;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            // Tasks still queued at shutdown run too: their futures are waited on.
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

}  // namespace izypop3::app
