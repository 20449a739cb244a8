#include "dir_maildrop.hpp"

#include "dir_mailbox.hpp"
#include "file_source.hpp"
#include "maildrop_uids.hpp"
#include "wire_size.hpp"

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/errc.hpp>

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>

namespace izypop3::store::detail {
namespace {

// A file the log has no wire size for (its line could not be written): counted here, so
// that LIST is exact before any RETR.
boost::system::result<std::uint64_t> count_wire_size(const std::string& path, std::uint64_t size) {
    auto src = open_file_source(path, size, {});
    if (!src) return src.error();
    return detail::count_wire_size(**src);
}

}  // namespace

dir_maildrop::dir_maildrop(mime_store& store, std::shared_ptr<dir_mailbox> box,
                           maildrop_locks::hold lock, commit_mode mode)
    : store_(store), box_(std::move(box)), lock_(std::move(lock)), mode_(mode) {}

boost::system::result<std::unique_ptr<dir_maildrop>> dir_maildrop::make(
    mime_store& store, std::shared_ptr<dir_mailbox> box, maildrop_locks::hold lock,
    commit_mode mode) {
    std::unique_ptr<dir_maildrop> md(new dir_maildrop(store, box, std::move(lock), mode));
    maildrop_uids uids;
    if (auto ec =
            box->snapshot_for_maildrop([&](const maildrop_row& row) { return md->add(row, uids); }))
        return ec;
    md->text_.shrink_to_fit();
    md->infos_.shrink_to_fit();
    md->entries_.shrink_to_fit();
    return md;
}

boost::system::error_code dir_maildrop::add(const maildrop_row& row, maildrop_uids& uids) {
    std::uint64_t wire = 0;
    if (row.wire_size) {
        wire = *row.wire_size;
    } else {
        auto counted = count_wire_size(join_path(box_->root(), row.rel_path), row.file_size);
        if (!counted) return counted.error();
        wire = *counted;
    }
    std::string uid = uids.next(box_->mailbox_name(), row.guid);
    const std::string_view guid = row.guid == uid ? std::string_view() : row.guid;
    // The lengths fit their fields: paths and guids are bounded by the file system (255
    // octets a name) and by the store (1,000 octets a guid).
    if (row.rel_path.size() > std::numeric_limits<std::uint16_t>::max() ||
        guid.size() > std::numeric_limits<std::uint16_t>::max() || row.status.size() > 255 ||
        row.fingerprint.size() > 255 ||
        text_.size() > std::numeric_limits<std::uint32_t>::max() / 2)
        return errc::corrupt;
    entry e;
    e.file_size = row.file_size;
    e.wire_form = row.wire_form_mtime_ns.has_value();
    e.wire_form_mtime_ns = row.wire_form_mtime_ns.value_or(0);
    e.text_at = static_cast<std::uint32_t>(text_.size());
    e.path_len = static_cast<std::uint16_t>(row.rel_path.size());
    e.guid_len = static_cast<std::uint16_t>(guid.size());
    e.fingerprint_len = static_cast<std::uint8_t>(row.fingerprint.size());
    e.status_len = static_cast<std::uint8_t>(row.status.size());
    text_.append(row.rel_path).append(guid);
    for (char c : row.fingerprint)  // compared with a lower-case digest when read
        text_.push_back(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
    text_.append(row.status);
    entries_.push_back(e);
    infos_.push_back(core::message_info{wire, std::move(uid)});
    return {};
}

item dir_maildrop::item_of(std::size_t index) const {
    const entry& e = entries_[index];
    std::uint32_t at = e.text_at + e.path_len;
    item it;
    it.guid = e.guid_len ? std::string(text(at, e.guid_len)) : infos_[index].uid;
    at += e.guid_len;
    it.fingerprint = std::string(text(at, e.fingerprint_len));
    at += e.fingerprint_len;
    const std::string_view status = text(at, e.status_len);
    it.tags = {status.empty() ? std::string(tag::unread) : std::string(status)};
    it.size = e.file_size;
    it.mailbox = box_->mailbox_name();
    return it;
}

boost::system::result<std::unique_ptr<core::message_source>> dir_maildrop::open(std::size_t index) {
    assert(index < entries_.size());
    if (index >= entries_.size()) return errc::not_found;
    const entry& e = entries_[index];
    file_expectation expect;
    expect.size = e.file_size;
    const std::uint32_t fp_at = e.text_at + e.path_len + e.guid_len;
    expect.fingerprint = std::string(text(fp_at, e.fingerprint_len));
    if (e.wire_form) expect.wire_form_mtime_ns = e.wire_form_mtime_ns;
    auto src = open_file_source(join_path(box_->root(), path(e)), std::move(expect));
    if (src || src.error() != errc::not_found) return src;
    // Moved since the snapshot (a mail reader renamed it to set a flag, another process
    // tagged it): the store finds it by its guid, or says it is gone.
    return store_.open_item(item_of(index));
}

boost::system::error_code dir_maildrop::commit_deletions(std::span<const std::size_t> indices) {
    std::vector<std::size_t> todo(indices.begin(), indices.end());
    std::sort(todo.begin(), todo.end());
    todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
    if (!todo.empty() && todo.back() >= entries_.size()) {
        assert(false && "commit_deletions: index out of range");
        return errc::not_found;
    }
    for (std::size_t i : todo) {
        const item it = item_of(i);
        auto ec = mode_ == commit_mode::remove ? store_.remove(it) : store_.mark(it, tag::archive);
        // Gone already (another process expunged it) is what the user asked for.
        if (ec && ec != errc::not_found) return ec;
    }
    return {};
}

}  // namespace izypop3::store::detail
