#pragma once
// Output buffers for the replies of one I/O thread's connections. A connection takes one
// when it has replies to send and gives it back when it goes back to waiting for its
// client, so an idle connection holds none, and the busy ones reuse memory that is already
// there instead of allocating (and page-faulting) it for every reply.

#include <cstddef>
#include <memory>
#include <string>

namespace izypop3::transport::detail {

class reply_buffers {
  public:
    /// An empty buffer, from this thread's spares when there is one.
    static std::unique_ptr<std::string> take();
    /// Keeps `buffer` for the next take() of this thread (a very large one is shrunk first,
    /// and beyond a few spares it is freed).
    static void give_back(std::unique_ptr<std::string> buffer) noexcept;

    static constexpr std::size_t spares = 32;
    static constexpr std::size_t largest_kept = 512 * 1024;
};

}  // namespace izypop3::transport::detail
