#include "postgres_writer.hpp"

#include "postgres_state.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace izypop3::store::detail {
namespace {

constexpr std::size_t upload_piece = 1024 * 1024;
// Names "<guid>", "<guid>.dup", "<guid>.dup2", ... are looked up this many at a time.
constexpr unsigned dup_batch = 16;
constexpr unsigned max_copies = 1024;

std::string copy_name(const std::string& guid, unsigned n) {
    if (n == 0) return guid;
    std::string name = guid;
    name += ".dup";
    if (n > 1) name += std::to_string(n);
    return name;
}

bool equal_ci(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

errc errno_errc(int e) {
    return e == ENOSPC || e == EDQUOT ? errc::disk_full : errc::io_error;
}

std::string temp_dir() {
    const char* t = std::getenv("TMPDIR");
    return t != nullptr && *t != '\0' ? std::string(t) : std::string("/tmp");
}

int find_row(const PGresult* r, int col, std::string_view value) {
    for (int row = 0; row < PQntuples(r); ++row)
        if (field(r, row, col) == value) return row;
    return -1;
}

// Rolls back whatever transaction a failed attempt left open (and with it the large
// object it created), so the connection goes back to the pool clean.
struct rollback_guard {
    pg_connection& conn;
    ~rollback_guard() { conn.rollback_if_open(); }
};

}  // namespace

pg_item_writer::pg_item_writer(std::shared_ptr<postgres_store::state> st, item meta)
    : st_(std::move(st)), meta_(std::move(meta)) {}

pg_item_writer::~pg_item_writer() {
    abort();
}

error_code pg_item_writer::spill(std::string_view data) {
    if (spill_fd_ < 0) {
        std::string path = temp_dir() + "/izypop3-pg-XXXXXX";
        spill_fd_ = ::mkostemp(path.data(), O_CLOEXEC);
        if (spill_fd_ < 0) {
            const int e = errno;
            st_->pool.note_error(fmt::format(
                "cannot create a temporary file in {} for a message larger than {} octets: "
                "{}; set TMPDIR to a writable directory with space",
                temp_dir(), pg_memory_buffer, std::strerror(e)));
            return errno_errc(e);
        }
        ::unlink(path.c_str());  // gone with the descriptor, even if this process dies
    }
    while (!data.empty()) {
        auto n = ::write(spill_fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            st_->pool.note_error(fmt::format(
                "cannot write a large message to a temporary file in {}: {}; set TMPDIR to a "
                "directory with space",
                temp_dir(), std::strerror(e)));
            return errno_errc(e);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

error_code pg_item_writer::write(std::string_view chunk) {
    if (done_) return errc::writer_finished;
    if (chunk.size() > st_->opts.maxitemsize - size_) {
        st_->pool.note_error(fmt::format(
            "a message of more than {} octets (mimestore.maxitemsize) was not stored; raise "
            "mimestore.maxitemsize (up to {}) to store it",
            st_->opts.maxitemsize, postgres_store_options::max_item_limit));
        abort();
        return errc::unsupported;
    }
    hash_.update(chunk);
    wire_.add(chunk);
    size_ += chunk.size();
    if (spill_fd_ < 0 && memory_.size() + chunk.size() <= pg_memory_buffer) {
        memory_.append(chunk);
        return {};
    }
    error_code ec;
    if (spill_fd_ < 0) {
        ec = spill(memory_);
        std::string().swap(memory_);
    }
    if (!ec) ec = spill(chunk);
    if (ec) abort();
    return ec;
}

void pg_item_writer::abort() noexcept {
    done_ = true;
    std::string().swap(memory_);
    if (spill_fd_ >= 0) ::close(spill_fd_);
    spill_fd_ = -1;
}

result<add_outcome> pg_item_writer::commit() {
    if (done_) return errc::writer_finished;
    std::string fp = hash_.hex_digest();
    if (!meta_.fingerprint.empty() && !equal_ci(meta_.fingerprint, fp)) {
        abort();
        return errc::corrupt;
    }
    meta_.fingerprint = std::move(fp);
    meta_.size = size_;
    meta_.wire_size = wire_.finish();
    auto r = st_->pool.run([this](pg_connection& c) -> result<add_outcome> {
        // Under group commit the commit record is written, not waited for: flush() waits
        // for the WAL once for the whole batch.
        const bool deferred = st_->group_commit.load();
        if (deferred) {
            if (auto ec = c.exec_script("SET synchronous_commit = off")) return ec;
        }
        auto out = store_once(c);
        // The connection goes back to the pool as it came, whatever store_once did.
        if (deferred) {
            if (auto ec = c.exec_script("RESET synchronous_commit")) return ec;
        }
        return out;
    });
    abort();
    return r;
}

result<add_outcome> pg_item_writer::store_once(pg_connection& c) {
    const bool large = spill_fd_ >= 0;
    std::int64_t oid = 0;  // the large object holding the payload, once uploaded
    rollback_guard guard{c};
    // Each round looks up the next batch of names; a name taken between the look-up and
    // the insert (another node adding the same message) makes the round run again.
    unsigned base = 0;
    for (unsigned round = 0; base < max_copies && round < 4 * max_copies; ++round) {
        std::vector<std::string> names;
        for (unsigned n = base; n < base + dup_batch; ++n)
            names.push_back(copy_name(meta_.guid, n));
        auto probe = c.exec(st_->sql.probe, pg_params().text(meta_.mailbox).text_array(names));
        if (!probe) return probe.error();
        if (base == 0) {
            // A record of a failed fetch gives way to whatever comes under its guid, and
            // never stands in for a stored message (mime_store::begin_add).
            const int row = find_row(probe->get(), 0, names[0]);
            if (row >= 0 && field(probe->get(), row, 3) == "t") {
                auto gone = c.exec(st_->sql.remove_failure_record,
                                   pg_params().text(meta_.mailbox).text(meta_.guid));
                if (!gone) return gone.error();
                continue;  // look again: another node may have added the message meanwhile
            }
            if (row >= 0 && has_tag(meta_, tag::pop3failed)) return add_outcome::already_present;
        }
        std::optional<unsigned> free;
        for (unsigned i = 0; i < names.size() && !free; ++i) {
            const int row = find_row(probe->get(), 0, names[i]);
            if (row < 0) {
                free = i;
            } else if (field(probe->get(), row, 1) == meta_.fingerprint &&
                       static_cast<std::uint64_t>(text_int(probe->get(), row, 2)) == size_) {
                return add_outcome::already_present;  // the guard drops any large object
            }
        }
        if (!free) {
            base += dup_batch;
            continue;
        }
        if (large && oid == 0) {
            if (auto ec = upload(c, oid)) return ec;
        }
        const bool is_dup = base + *free > 0;
        auto inserted = insert(c, names[*free], is_dup, oid);
        if (!inserted) return inserted.error();
        if (!*inserted) continue;
        if (oid != 0) {
            auto unlinked = c.exec("SELECT lo_unlink($1::oid)", pg_params().number(oid));
            if (!unlinked) return unlinked.error();
            if (auto ec = c.exec_script("COMMIT")) return ec;
        }
        return is_dup ? add_outcome::duplicate : add_outcome::added;
    }
    st_->pool.note_error(fmt::format(
        "more than {} different messages share one guid in mailbox '{}'; the message was not "
        "stored",
        max_copies, meta_.mailbox));
    return errc::invalid_item;
}

error_code pg_item_writer::upload(pg_connection& c, std::int64_t& oid) {
    if (auto ec = c.exec_script("BEGIN")) return ec;
    auto created = c.exec("SELECT lo_create(0)");
    if (!created) return created.error();
    oid = text_int(created->get(), 0, 0);
    std::string piece(std::min<std::uint64_t>(upload_piece, size_), '\0');
    for (std::uint64_t offset = 0; offset < size_;) {
        const auto want = std::min<std::uint64_t>(piece.size(), size_ - offset);
        auto n = ::pread(spill_fd_, piece.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            st_->pool.note_error(
                fmt::format("cannot read back the temporary copy of a large "
                            "message: {}",
                            n < 0 ? std::strerror(errno) : "file too short"));
            return errc::io_error;
        }
        auto put = c.exec("SELECT lo_put($1::oid, $2::bigint, $3::bytea)",
                          pg_params()
                              .number(oid)
                              .number(static_cast<std::int64_t>(offset))
                              .bytes(std::string_view(piece.data(), static_cast<std::size_t>(n))));
        if (!put) return put.error();
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

result<bool> pg_item_writer::insert(pg_connection& c, const std::string& uidl, bool is_dup,
                                    std::int64_t oid) {
    static const std::vector<std::string> dup_tags{std::string(tag::dup)};
    std::optional<std::int64_t> message_time;
    if (meta_.message_time) message_time = to_micros(*meta_.message_time);
    pg_params p;
    p.text(meta_.mailbox)
        .text(uidl)
        .text(meta_.source_id)
        .text(meta_.fingerprint)
        .number(static_cast<std::int64_t>(size_))
        .number(static_cast<std::int64_t>(*meta_.wire_size))
        .text_array(is_dup ? dup_tags : meta_.tags)
        .optional_number(message_time)
        .number(to_micros(meta_.created));
    if (oid != 0) {
        p.number(oid);
    } else {
        p.bytes(memory_);
    }
    auto r = c.exec(oid != 0 ? st_->sql.insert_from_large_object : st_->sql.insert, p);
    // Spelled out: an error_code would otherwise be ambiguous with the bool value.
    if (!r) return result<bool>(boost::system::in_place_error, r.error());
    return PQntuples(r->get()) > 0;
}

}  // namespace izypop3::store::detail
