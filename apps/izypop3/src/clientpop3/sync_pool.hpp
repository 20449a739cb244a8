#pragma once
// A few threads that run item_writer::sync_data() (a file store's fsync) for several
// messages at once. A backup that fsyncs each message in turn waits for one disk flush per
// message; with the flushes of consecutive messages in flight together the file system
// folds them into fewer journal commits, while the backup still commits the messages to
// the store in the order they arrived.

#include <izypop3/store/store.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace izypop3::app {

class sync_pool {
public:
    explicit sync_pool(unsigned threads);
    ~sync_pool();
    sync_pool(const sync_pool&) = delete;
    sync_pool& operator=(const sync_pool&) = delete;

    /// Runs w.sync_data() on a pool thread; `w` must outlive the returned future's result.
    std::future<boost::system::error_code> start(store::item_writer& w);

private:
    void work();

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::packaged_task<boost::system::error_code()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace izypop3::app
