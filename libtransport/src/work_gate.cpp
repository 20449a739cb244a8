#include "work_gate.hpp"

#include <algorithm>

namespace izypop3::transport::detail {

bool work_gate::enter(const std::string& group, std::uint64_t ticket, wake_function wake) {
    std::lock_guard lock(mutex_);
    auto& l = lines_[group];
    if (l.running < per_group_) {
        ++l.running;
        return true;
    }
    l.waiting.push_back(waiter{ticket, std::move(wake)});
    return false;
}

void work_gate::leave(const std::string& group) {
    wake_function wake;
    {
        std::lock_guard lock(mutex_);
        auto it = lines_.find(group);
        if (it == lines_.end()) return;
        auto& l = it->second;
        if (!l.waiting.empty()) {
            // The slot passes straight to the next in line: running stays the same.
            wake = std::move(l.waiting.front().wake);
            l.waiting.pop_front();
        } else if (--l.running == 0) {
            lines_.erase(it);
        }
    }
    if (wake) wake();
}

bool work_gate::withdraw(const std::string& group, std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    auto it = lines_.find(group);
    if (it == lines_.end()) return false;
    auto& w = it->second.waiting;
    const auto pos =
        std::find_if(w.begin(), w.end(), [ticket](const waiter& x) { return x.ticket == ticket; });
    if (pos == w.end()) return false;
    w.erase(pos);
    return true;
}

std::size_t work_gate::running(const std::string& group) {
    std::lock_guard lock(mutex_);
    auto it = lines_.find(group);
    return it == lines_.end() ? 0 : it->second.running;
}

std::size_t work_gate::waiting(const std::string& group) {
    std::lock_guard lock(mutex_);
    auto it = lines_.find(group);
    return it == lines_.end() ? 0 : it->second.waiting.size();
}

std::size_t work_gate::groups() {
    std::lock_guard lock(mutex_);
    return lines_.size();
}

}  // namespace izypop3::transport::detail
