#pragma once
// The fake store's message generator: octets as a pure function of (seed, index, bigsize).
// See fake_store.hpp for the rule it follows.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/item.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace izypop3::store::detail {

class fake_generator {
public:
    fake_generator(std::uint64_t seed, std::uint64_t bigsize) : seed_(seed), bigsize_(bigsize) {}

    /// Metadata of message `index` (1-based), sizes included, without generating its body.
    item describe(std::uint64_t index) const;
    /// A reader of message `index`'s octets. Ordinary messages are built at open (a few
    /// KiB); the big one is produced from the read offset, chunk by chunk.
    std::unique_ptr<core::message_source> open(std::uint64_t index) const;

private:
    std::uint64_t seed_;
    std::uint64_t bigsize_;
};

}  // namespace izypop3::store::detail
