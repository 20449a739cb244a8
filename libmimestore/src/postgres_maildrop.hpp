#pragma once
// A POP3 session's maildrop on the postgres store. It holds one connection for the whole
// session and, on it, a session-level advisory lock on the mailbox (postgres_lock_key.hpp):
// PostgreSQL itself refuses a second holder, whichever process or host asks, and frees the
// lock when the connection ends, so a crashed server never leaves a mailbox locked. The
// snapshot, the message reads and the UPDATE all run on that connection.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/postgres_store.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace izypop3::store::detail {

struct pg_session;

class pg_maildrop final : public core::maildrop {
  public:
    /// Locks `mailbox` and snapshots its servable items (all but archive and dup, oldest
    /// first). Errors: in_use (another session holds the lock), io_error.
    static boost::system::result<std::unique_ptr<pg_maildrop>> open(
        std::shared_ptr<postgres_store::state> st, std::string mailbox);

    /// Releases the lock (a round trip bounded by unlock_timeout; when it does not
    /// complete, the connection is closed, which releases the lock too).
    ~pg_maildrop() override;
    pg_maildrop(const pg_maildrop&) = delete;
    pg_maildrop& operator=(const pg_maildrop&) = delete;

    const std::vector<core::message_info>& messages() const noexcept override;
    /// Each uid comes from the row's guid (store_maildrop's make_uid), which never changes.
    bool stable_uids() const noexcept override { return true; }
    /// A message fetched ahead (see open()) opens from memory.
    bool opens_at_once(std::size_t index) const noexcept override;
    /// A message not fetched ahead is read from the database together with the small
    /// messages after it (up to ahead_count of them and ahead_octets in all), in one round
    /// trip: clients read a maildrop in order, and a round trip per small message is what
    /// made this store slower than the local ones.
    boost::system::result<std::unique_ptr<core::message_source>> open(std::size_t index) override;
    /// One statement, so one transaction: every listed message is removed (or archived, per
    /// mimestore.commitmode) or, on failure, none is. Messages already gone count as done.
    boost::system::error_code commit_deletions(std::span<const std::size_t> indices) override;
    /// Sets the rows' `retrieved` column where it is still empty, in one statement.
    boost::system::error_code record_retrieval(std::span<const std::size_t> indices,
                                               std::chrono::system_clock::time_point now) override;

    static constexpr std::size_t ahead_count = 32;
    static constexpr std::uint64_t ahead_octets = 256 * 1024;
    static constexpr std::uint64_t ahead_largest =
        64 * 1024;  ///< bigger ones are not fetched ahead

  private:
    explicit pg_maildrop(std::shared_ptr<pg_session> s) : session_(std::move(s)) {}
    std::size_t ahead_end(std::size_t index) const;

    std::shared_ptr<pg_session> session_;
    std::vector<std::int64_t> ids_;
    std::vector<core::message_info> infos_;
    std::map<std::size_t, std::string> ahead_;  // whole payloads fetched ahead, by index
};

}  // namespace izypop3::store::detail
