// Consistency of STAT, LIST and UIDL (SECURITY C11, C12).

#include <izypop3/core/maildrop_listing.hpp>
#include <izypop3/core/status_line.hpp>

#include <algorithm>
#include <limits>

namespace izypop3::core {
namespace {

constexpr std::uint64_t lf_margin_fixed = 64 * 1024;

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return a > std::numeric_limits<std::uint64_t>::max() - b
               ? std::numeric_limits<std::uint64_t>::max()
               : a + b;
}

}  // namespace

bool is_rfc1939_uid(std::string_view uid) noexcept {
    if (uid.empty() || uid.size() > 70) return false;
    return std::all_of(uid.begin(), uid.end(), [](char ch) {
        const auto u = static_cast<unsigned char>(ch);
        return u >= 0x21 && u <= 0x7E;
    });
}

std::uint64_t retr_cap(std::uint64_t listed, std::uint64_t max_size) noexcept {
    const std::uint64_t cap = saturating_add(saturating_add(listed, listed / 50), lf_margin_fixed);
    return max_size != 0 ? std::min(cap, max_size) : cap;
}

maildrop_listing::maildrop_listing(std::size_t max_entries, bool with_uids)
    : max_entries_(max_entries), with_uids_(with_uids) {}

bool maildrop_listing::reject(std::string why) {
    if (problem_.empty()) problem_ = std::move(why);
    messages_.clear();
    return false;
}

bool maildrop_listing::drop_uids() {
    if (!ok()) return false;
    if (uid_entries_ != 0) return reject("UIDL was refused after it listed messages");
    with_uids_ = false;
    uids_.clear();
    return true;
}

bool maildrop_listing::stat(std::uint64_t count, std::uint64_t octets) {
    if (!ok()) return false;
    if (count > max_entries_)
        return reject("STAT counts " + std::to_string(count) + " messages, more than the " +
                      std::to_string(max_entries_) + " allowed (maxmessages)");
    have_stat_ = true;
    count_ = count;
    octets_ = octets;
    slots_.assign(static_cast<std::size_t>(count), slot{});
    if (with_uids_) uids_.assign(static_cast<std::size_t>(count), std::string());
    return true;
}

// Counts an entry of `listing` and checks its number against STAT.
bool maildrop_listing::entry_ok(std::uint32_t number, std::size_t& entries,
                                std::string_view listing) {
    if (!ok()) return false;
    if (!have_stat_) return reject(std::string(listing) + " came before STAT");
    if (++entries > count_)
        return reject(std::string(listing) + " has more entries than STAT counted (" +
                      std::to_string(count_) + ")");
    if (number == 0 || number > count_)
        return reject(std::string(listing) + " names message " + std::to_string(number) +
                      ", out of the range 1-" + std::to_string(count_) + " that STAT gives");
    return true;
}

bool maildrop_listing::size(std::uint32_t number, std::uint64_t size) {
    if (!entry_ok(number, list_entries_, "LIST")) return false;
    slot& s = slots_[number - 1];
    if (s.sized) return reject("LIST names message " + std::to_string(number) + " twice");
    // No single message is larger than the whole maildrop (with the margin for servers that
    // count line ends differently in STAT and LIST). A lie here would raise the RETR cap.
    if (size > retr_cap(octets_))
        return reject("LIST gives message " + std::to_string(number) + " a size of " +
                      std::to_string(size) + " octets, more than the " + std::to_string(octets_) +
                      " STAT gives for the whole maildrop");
    s.size = size;
    s.sized = true;
    return true;
}

bool maildrop_listing::uid(std::uint32_t number, std::string_view uid) {
    if (!entry_ok(number, uid_entries_, "UIDL")) return false;
    if (!with_uids_) return reject("UIDL was not asked for");
    if (!is_rfc1939_uid(uid))
        return reject("UIDL gives message " + std::to_string(number) + " the UID '" +
                      printable(uid, 80) + "', not 1 to 70 printable octets (RFC 1939)");
    slot& s = slots_[number - 1];
    if (s.has_uid) return reject("UIDL names message " + std::to_string(number) + " twice");
    std::string& stored = uids_[number - 1];
    stored.assign(uid);
    if (!seen_uids_.insert(stored).second)
        return reject("UIDL gives the UID '" + printable(uid, 80) + "' twice");
    s.has_uid = true;
    return true;
}

bool maildrop_listing::finish() {
    if (!ok()) return false;
    if (!have_stat_) return reject("the server did not answer STAT");
    seen_uids_.clear();  // it points into uids_, which is moved from below
    messages_.reserve(list_entries_);
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const slot& s = slots_[i];
        const auto number = std::to_string(i + 1);
        if (with_uids_ && s.sized && !s.has_uid)
            return reject("LIST names message " + number + " but UIDL does not");
        if (s.has_uid && !s.sized)
            return reject("UIDL names message " + number + " but LIST does not");
        if (!s.sized) continue;
        listed_message m;
        m.number = static_cast<std::uint32_t>(i + 1);
        m.size = s.size;
        if (with_uids_) m.uid = std::move(uids_[i]);
        messages_.push_back(std::move(m));
    }
    uids_.clear();
    slots_.clear();
    return true;
}

}  // namespace izypop3::core
