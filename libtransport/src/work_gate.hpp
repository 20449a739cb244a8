#pragma once
// A bound on expensive credential work per address group (key derivation, crypt checks):
// at most `per_group` run at once for one group, so one client address cannot occupy the
// worker threads that every other client's login needs. Later callers wait in line and are
// handed a slot in order as running work ends; a waiter may give up (its deadline passed).
// Thread-safe; knows nothing of Asio: waking a waiter is a callback.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace izypop3::transport::detail {

class work_gate {
  public:
    using wake_function = std::function<void()>;

    explicit work_gate(std::size_t per_group) : per_group_(per_group ? per_group : 1) {}

    /// True: a slot of `group` is taken now. False: queued as `ticket`; `wake` is called
    /// (on the thread that calls leave(), outside the gate's lock) once the slot is handed
    /// over. Either way the caller ends with leave(), unless withdraw() returns true.
    bool enter(const std::string& group, std::uint64_t ticket, wake_function wake);
    /// Gives a slot back; the group's first waiter gets it.
    void leave(const std::string& group);
    /// Removes a waiter that gives up. False when it was handed a slot already: then it
    /// owns it and must leave().
    bool withdraw(const std::string& group, std::uint64_t ticket);

    std::size_t running(const std::string& group);
    std::size_t waiting(const std::string& group);
    /// Groups with work running or waiting (idle ones are not kept).
    std::size_t groups();

  private:
    struct waiter {
        std::uint64_t ticket;
        wake_function wake;
    };
    struct line {
        std::size_t running = 0;
        std::deque<waiter> waiting;
    };

    std::size_t per_group_;
    std::mutex mutex_;
    std::unordered_map<std::string, line> lines_;
};

}  // namespace izypop3::transport::detail
