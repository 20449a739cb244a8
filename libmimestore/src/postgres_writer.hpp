#pragma once
// Adding one item to the postgres store. The octets are counted, hashed and kept: in memory
// up to pg_memory_buffer, beyond that in an unlinked temporary file, so memory stays bounded
// whatever the message size. commit() then writes the row in one go: a small payload as a
// binary parameter of the INSERT, a large one streamed into a large object in pieces and
// turned into the bytea by the server (lo_get), all in one transaction that also removes the
// large object. Until commit() nothing touches the database, so a writer holds no connection
// while the caller is still receiving the message.

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/postgres_store.hpp>

#include "postgres_connection.hpp"
#include "sha256.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace izypop3::store::detail {

/// Payloads up to this size are sent from memory; larger ones go through a temporary file.
inline constexpr std::size_t pg_memory_buffer = 4 * 1024 * 1024;

class pg_item_writer final : public item_writer {
public:
    /// `meta` has been checked and completed by begin_add (mailbox resolved, tags and
    /// created set).
    pg_item_writer(std::shared_ptr<postgres_store::state> st, item meta);
    ~pg_item_writer() override;
    pg_item_writer(const pg_item_writer&) = delete;
    pg_item_writer& operator=(const pg_item_writer&) = delete;

    error_code write(std::string_view chunk) override;
    result<add_outcome> commit() override;
    void abort() noexcept override;

private:
    error_code spill(std::string_view data);
    result<add_outcome> store_once(pg_connection& c);
    error_code upload(pg_connection& c, std::int64_t& oid);
    result<bool> insert(pg_connection& c, const std::string& uidl, bool is_dup,
                        std::int64_t oid);

    std::shared_ptr<postgres_store::state> st_;
    item meta_;
    std::string memory_;
    int spill_fd_ = -1;
    std::uint64_t size_ = 0;
    sha256 hash_;
    core::wire_size_counter wire_;
    bool done_ = false;
};

}  // namespace izypop3::store::detail
