#include "dir_mailbox.hpp"

#include "conversion_check.hpp"

#include "file_source.hpp"
#include "sha256.hpp"

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/errc.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <limits>

namespace izypop3::store::detail {
namespace {

using boost::system::error_code;
using std::chrono::microseconds;
using std::chrono::system_clock;

constexpr std::uint64_t unlogged_seq = std::numeric_limits<std::uint64_t>::max();

/// The folder a tag list puts an item in: its first status tag, "" for unread or none.
std::string status_of(const std::vector<std::string>& tags) {
    for (const auto& t : tags) {
        if (!is_status_tag(t)) continue;
        return t == tag::unread ? std::string() : t;
    }
    return {};
}

/// The tags an item shows: the recorded ones, but the folder decides the status (a status
/// change whose rename did not happen did not happen).
std::vector<std::string> reconcile(std::vector<std::string> tags, const std::string& folder) {
    if (status_of(tags) == folder) return tags;
    std::string status = folder.empty() ? std::string(tag::unread) : folder;
    auto first = std::find_if(tags.begin(), tags.end(),
                              [](const std::string& t) { return is_status_tag(t); });
    auto at = static_cast<std::size_t>(first - tags.begin());
    std::erase_if(tags, [](const std::string& t) { return is_status_tag(t); });
    tags.insert(tags.begin() + static_cast<std::ptrdiff_t>(std::min(at, tags.size())), status);
    return tags;
}

system_clock::time_point from_us(std::int64_t us) {
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(microseconds(us)));
}

std::int64_t to_us(system_clock::time_point t) {
    return std::chrono::duration_cast<microseconds>(t.time_since_epoch()).count();
}

std::int64_t now_us() {
    return to_us(system_clock::now());
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string dir_of(const std::string& rel) {
    auto slash = rel.rfind('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

/// Counts what a file would be on the POP3 wire, and whether it already is its wire form.
int count_wire(const std::string& path, wire_note& note) {
    auto src = open_file_source(path, note.size, {});
    if (!src) return EIO;
    core::wire_size_counter counter;
    std::array<char, 65536> buf{};
    for (;;) {
        auto n = (*src)->read(buf);
        if (!n) return EIO;
        if (*n == 0) break;
        counter.add(std::string_view(buf.data(), *n));
    }
    note.wire = counter.finish();
    note.wire_form = counter.wire_form();
    return 0;
}

int hash_file(const std::string& path, std::uint64_t size, std::string& hex) {
    auto src = open_file_source(path, size, {});
    if (!src) return EIO;
    sha256 h;
    std::array<char, 65536> buf{};
    for (;;) {
        auto n = (*src)->read(buf);
        if (!n) return EIO;
        if (*n == 0) break;
        h.update(std::string_view(buf.data(), *n));
    }
    hex = h.hex_digest();
    return 0;
}

/// Streams an item's octets into a temporary file of the mailbox.
class dir_writer final : public item_writer {
  public:
    /// With `data_synced_at_flush` (group commit), the data reach the disk with the whole
    /// batch at flush(), not here.
    dir_writer(std::shared_ptr<dir_mailbox> box, item meta, std::string temp_rel, unique_fd fd,
               bool data_synced_at_flush)
        : box_(std::move(box)),
          meta_(std::move(meta)),
          fd_(std::move(fd)),
          synced_(data_synced_at_flush) {
        file_.temp_rel = std::move(temp_rel);
    }
    ~dir_writer() override { abort(); }

    error_code write(std::string_view chunk) override {
        if (done_) return errc::writer_finished;
        if (int err = write_all(fd_.get(), chunk)) return give_up(err, "cannot write");
        synced_ = synced_at_flush_;
        hash_.update(chunk);
        wire_.add(chunk);
        count_crlf(chunk);
        shape_.add(chunk);
        file_.size += chunk.size();
        return {};
    }

    error_code sync_data() override {
        if (done_) return errc::writer_finished;
        if (synced_) return {};
        if (int err = fsync_fd(fd_.get())) return give_up(err, "cannot fsync");
        synced_ = true;
        return {};
    }

    result<add_outcome> commit() override {
        if (done_) return errc::writer_finished;
        if (!synced_) {
            if (int err = fsync_fd(fd_.get())) return give_up(err, "cannot fsync");
        }
        // The mtime after the last write ties the wire-form note to these octets: a file
        // changed later has another mtime and is read (and checked) instead of sent as is.
        struct stat st {};
        const bool stat_ok = ::fstat(fd_.get(), &st) == 0;
        fd_.reset();
        done_ = true;
        file_.fingerprint = hash_.hex_digest();
        file_.wire_size = wire_.finish();
        if (stat_ok && wire_.wire_form())
            file_.wire_form_mtime_ns =
                static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        file_.crlf_size = file_.size + bare_lf_;
        if (!meta_.fingerprint.empty() && lower(meta_.fingerprint) != file_.fingerprint) {
            box_->discard_temp(file_.temp_rel);
            box_->note_error(fmt::format(
                "the octets of {} do not have the SHA-256 the caller gave; nothing was stored",
                meta_.guid));
            return errc::corrupt;
        }
        // Kept byte for byte, but out of the way of programs that would misread it.
        if (!shape_.problem().empty() && status_of(meta_.tags).empty())
            meta_.tags = tags_after_mark(std::move(meta_.tags), tag::conversionerror);
        return box_->commit_add(std::move(meta_), file_);
    }

    void abort() noexcept override {
        if (done_) return;
        done_ = true;
        fd_.reset();
        box_->discard_temp(file_.temp_rel);
    }

  private:
    error_code give_up(int err, std::string_view what) {
        box_->note_error(
            errno_text(fmt::format("{} {}", what, join_path(box_->root(), file_.temp_rel)), err));
        abort();
        errc e = errno_to_errc(err);
        return e == errc::not_found ? errc::io_error : e;
    }

    // Dovecot's W= counts each LF without a CR before it as two octets.
    void count_crlf(std::string_view chunk) {
        for (char c : chunk) {
            if (c == '\n' && !last_was_cr_) ++bare_lf_;
            last_was_cr_ = c == '\r';
        }
    }

    std::shared_ptr<dir_mailbox> box_;
    item meta_;
    unique_fd fd_;
    finished_file file_;
    sha256 hash_;
    core::wire_size_counter wire_;
    std::uint64_t bare_lf_ = 0;
    bool last_was_cr_ = false;
    conversion_check shape_;
    bool done_ = false;
    bool synced_ = false;  // sync_data() ran after the last write, or flush() will sync
    bool synced_at_flush_ = synced_;
};

}  // namespace

dir_mailbox::dir_mailbox(const dir_layout& layout, std::string root, std::string mailbox_name,
                         bool create_root)
    : layout_(layout),
      root_(std::move(root)),
      mailbox_name_(std::move(mailbox_name)),
      create_root_(create_root),
      log_(join_path(root_, layout.meta_log_file())) {}

bool dir_mailbox::exists() const {
    file_facts facts;
    return probe_follow(root_, facts) == 0 && facts.is_dir;
}

std::string dir_mailbox::last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
}

void dir_mailbox::note_error(std::string text) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(text);
}

error_code dir_mailbox::fail(errc e, std::string text) {
    last_error_ = std::move(text);
    return e;
}

error_code dir_mailbox::fail_errno(int err, std::string_view what) {
    if (err == ENOENT) prepared_ = false;  // a folder may be gone: look again next time
    errc e = errno_to_errc(err);
    return fail(e == errc::not_found ? errc::io_error : e, errno_text(what, err));
}

int dir_mailbox::ensure_root() {
    // Once the folders are there, checking them again for every message costs six system
    // calls; a folder removed behind our back shows up as ENOENT and clears the flag.
    if (prepared_) return 0;
    if (!exists()) {
        if (!create_root_) return ENOENT;
        if (int err = make_dirs(root_)) return err;
    }
    std::string failed;
    const int err = layout_.prepare(root_, failed);
    prepared_ = err == 0;
    return err;
}

void dir_mailbox::set_group_commit(bool on) {
    std::lock_guard lock(mu_);
    group_commit_ = on;
}

void dir_mailbox::remember_file(const std::string& name, const std::string& rel,
                                const std::string& status) {
    stored_file sf;
    sf.name = name;
    sf.rel_path = rel;
    sf.status = status;
    file_facts ff;
    if (probe(join_path(root_, rel), ff) == 0) {
        sf.size = ff.size;
        sf.mtime_ns = ff.mtime_ns;
        sf.ino = ff.ino;
    }
    files_.push_back(std::move(sf));
    by_name_.emplace(name, files_.size() - 1);
}

dir_mailbox::~dir_mailbox() {
    // Committed under group commit but never flushed: not promised durable to anybody, so
    // not published either; their log lines describe nothing.
    for (const auto& u : unpublished_) discard_temp(u.temp_rel);
}

// Under the mutex, after the batch's files and log lines were made durable: gives each file
// its name.
boost::system::error_code dir_mailbox::publish(const std::vector<unpublished_file>& batch) {
    auto give_up = [&](boost::system::error_code ec) {
        for (const auto& u : batch) discard_temp(u.temp_rel);
        return ec;
    };
    auto write_lock = take_write_lock();
    if (!write_lock) return give_up(write_lock.error());
    // Finds nothing to write after the syncfs, unless a symbolic link put the log on
    // another file system.
    if (int err = log_.sync())
        return give_up(fail_errno(err, fmt::format("cannot fsync {}", log_.path())));
    boost::system::error_code first;
    for (const auto& u : batch) {
        const std::string target = join_path(root_, u.rel);
        int err = EEXIST;
        bool linked = false;
        if (!u.link_from.empty() && ::link(u.link_from.c_str(), target.c_str()) == 0) {
            err = 0;
            linked = true;
        }
        if (!linked) err = rename_no_replace(join_path(root_, u.temp_rel), target);
        if (linked || err != 0) discard_temp(u.temp_rel);
        if (err != 0) {
            // Our line must not describe whatever holds that name (or nothing at all).
            (void)log_.append(format_gone(u.name), true);
            if (!first)
                first = fail_errno(err, fmt::format("cannot rename {} to {}", u.temp_rel, target));
            continue;
        }
        unsynced_dirs_.insert(join_path(root_, dir_of(u.rel)));
        remember_file(u.name, u.rel, u.status);
    }
    return first;
}

// The slow steps (syncfs, the directories' fsyncs) run without the mutex, so that the next
// batch can be written and committed while this one is made durable: the backup flushes
// on another thread.
boost::system::error_code dir_mailbox::flush() {
    std::lock_guard one_at_a_time(flush_mu_);
    std::vector<unpublished_file> batch;
    {
        std::lock_guard lock(mu_);
        batch.swap(unpublished_);
        flushing_ = true;
    }
    // One syncfs makes the batch's files and log lines durable at once: the journal
    // commits once for all of them, where an fsync per file commits it per file
    // (docs/stores.md has the measurements).
    const int synced =
        batch.empty() ? 0 : sync_file_system(join_path(root_, dir_of(batch.front().temp_rel)));
    std::set<std::string> dirs;
    boost::system::error_code published;
    {
        std::lock_guard lock(mu_);
        flushing_ = false;
        if (synced != 0) {
            for (const auto& u : batch) discard_temp(u.temp_rel);
            return fail_errno(synced, fmt::format("cannot syncfs the file system of {}", root_));
        }
        if (!batch.empty()) published = publish(batch);
        dirs.swap(unsynced_dirs_);
    }
    for (auto it = dirs.begin(); it != dirs.end(); ++it) {
        if (int err = fsync_dir(*it)) {
            std::lock_guard lock(mu_);
            unsynced_dirs_.insert(it, dirs.end());
            return fail_errno(err, fmt::format("cannot fsync {}", *it));
        }
    }
    return published;
}

boost::system::result<dir_mailbox::write_lock_hold> dir_mailbox::take_write_lock(bool wait) {
    std::string path = join_path(root_, layout_.write_lock_file());
    // The lock file stays open between writes (an open per message is one of the dearest
    // calls of a backup); one that was unlinked since would no longer exclude anybody.
    struct stat st {};
    if (write_lock_fd_ && (::fstat(write_lock_fd_.get(), &st) != 0 || st.st_nlink == 0))
        write_lock_fd_.reset();
    if (!write_lock_fd_) {
        write_lock_fd_ =
            unique_fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!write_lock_fd_)
            return fail_errno(errno, fmt::format("cannot open the write lock {}", path));
    }
    while (::flock(write_lock_fd_.get(), wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK && !wait) return errc::in_use;
        if (errno != EINTR) return fail_errno(errno, fmt::format("cannot lock {}", path));
    }
    return write_lock_hold(write_lock_fd_.get());
}

dir_mailbox::write_lock_hold::~write_lock_hold() {
    if (fd_ >= 0) (void)::flock(fd_, LOCK_UN);
}

int dir_mailbox::rescan() {
    std::vector<stored_file> files;
    std::string failed;
    if (int err = layout_.scan(root_, files, failed)) {
        last_error_ = errno_text(fmt::format("cannot read {}", failed), err);
        return err;
    }
    files_ = std::move(files);
    scanned_ = true;
    by_name_.clear();
    by_name_.reserve(files_.size());
    for (std::size_t i = 0; i < files_.size(); ++i) by_name_.emplace(files_[i].name, i);
    return 0;
}

located_item dir_mailbox::describe(const stored_file& f) const {
    located_item out;
    out.file = f;
    item& it = out.it;
    it.mailbox = mailbox_name_;
    it.size = f.size;
    const meta_record* r = log_.find(f.name);
    if (r != nullptr && r->has_item) {
        it.guid = r->guid;
        it.source_id = r->source_id;
        it.created = from_us(r->created_us);
        if (r->message_time_us) it.message_time = from_us(*r->message_time_us);
        if (r->size == f.size) {
            // A file changed by hand keeps its identity but loses what was computed from
            // its old octets.
            it.fingerprint = r->fingerprint;
            it.wire_size = r->wire_size;
            if (r->wire_form_mtime_ns == f.mtime_ns) out.wire_form_mtime_ns = f.mtime_ns;
        }
        out.arrival_us = r->stored_us;
        out.seq = r->seq;
    } else {
        it.guid = f.name;
        it.created = from_us(f.mtime_ns / 1000);
        out.arrival_us = layout_.arrival_ns(f) / 1000;
        out.seq = unlogged_seq;
    }
    if (r != nullptr && r->tags) {
        it.tags = reconcile(*r->tags, f.status);
    } else {
        it.tags = {f.status.empty() ? std::string(tag::unread) : f.status};
    }
    if (!it.wire_size && r != nullptr && r->wire && r->wire->size == f.size &&
        r->wire->mtime_ns == f.mtime_ns) {
        it.wire_size = r->wire->wire;
        if (r->wire->wire_form) out.wire_form_mtime_ns = f.mtime_ns;
    }
    return out;
}

error_code dir_mailbox::snapshot(std::vector<located_item>& out) {
    std::lock_guard lock(mu_);
    out.clear();
    if (!exists()) return {};  // a user without a mailbox has no items
    if (int err = rescan()) return fail_errno(err, last_error_);
    if (int err = log_.refresh())
        return fail_errno(err, fmt::format("cannot read {}", log_.path()));
    out.reserve(files_.size());
    for (const auto& f : files_) out.push_back(describe(f));
    sort_by_arrival(out);
    return {};
}

void dir_mailbox::sort_by_arrival(std::vector<located_item>& items) const {
    std::sort(items.begin(), items.end(), [](const located_item& a, const located_item& b) {
        if (a.arrival_us != b.arrival_us) return a.arrival_us < b.arrival_us;
        if (a.seq != b.seq) return a.seq < b.seq;
        return a.file.rel_path < b.file.rel_path;
    });
}

maildrop_row dir_mailbox::row_of(const stored_file& f, std::int64_t& arrival_us,
                                 std::uint64_t& seq) const {
    maildrop_row row;
    row.rel_path = f.rel_path;
    row.status = f.status;
    row.file_size = f.size;
    const meta_record* r = log_.find(f.name);
    if (r != nullptr && r->has_item) {
        row.guid = r->guid;
        if (r->size == f.size) {  // as describe(): a file changed by hand loses these
            row.fingerprint = r->fingerprint;
            row.wire_size = r->wire_size;
            if (r->wire_form_mtime_ns == f.mtime_ns) row.wire_form_mtime_ns = f.mtime_ns;
        }
        arrival_us = r->stored_us;
        seq = r->seq;
    } else {
        row.guid = f.name;
        arrival_us = layout_.arrival_ns(f) / 1000;
        seq = unlogged_seq;
    }
    if (!row.wire_size && r != nullptr && r->wire && r->wire->size == f.size &&
        r->wire->mtime_ns == f.mtime_ns) {
        row.wire_size = r->wire->wire;
        if (r->wire->wire_form) row.wire_form_mtime_ns = f.mtime_ns;
    }
    return row;
}

error_code dir_mailbox::snapshot_for_maildrop(
    const std::function<error_code(const maildrop_row&)>& each) {
    std::lock_guard lock(mu_);
    if (!exists()) return {};
    if (int err = rescan()) return fail_errno(err, last_error_);
    if (int err = log_.refresh())
        return fail_errno(err, fmt::format("cannot read {}", log_.path()));
    if (std::string lines = count_missing_wire_sizes(); !lines.empty()) {
        // Only a cache, so never waited for: a server's I/O thread runs this, and a writer
        // in another process may hold the lock across fsyncs. Lines not written are
        // counted again (the maildrop counts sizes the log lacks); not fsynced either.
        // The layout's own folders (localfs keeps its log in .izypop3/) may not exist yet
        // in a directory only other programs wrote to.
        if (ensure_root() == 0) {
            if (auto write_lock = take_write_lock(false)) (void)log_.append(lines, false);
        }
    }
    // The order of arrival, as snapshot() sorts, by index: nothing is copied.
    struct place {
        std::int64_t arrival_us;
        std::uint64_t seq;
        std::size_t index;
    };
    std::vector<place> order;
    order.reserve(files_.size());
    for (std::size_t i = 0; i < files_.size(); ++i) {
        // The folder decides the status: archived and duplicate items, and records of
        // messages a backup could not fetch, are never served.
        const auto& status = files_[i].status;
        if (status == tag::archive || status == tag::dup || status == tag::pop3failed) continue;
        place p{0, 0, i};
        (void)row_of(files_[i], p.arrival_us, p.seq);
        order.push_back(p);
    }
    std::sort(order.begin(), order.end(), [this](const place& a, const place& b) {
        if (a.arrival_us != b.arrival_us) return a.arrival_us < b.arrival_us;
        if (a.seq != b.seq) return a.seq < b.seq;
        return files_[a.index].rel_path < files_[b.index].rel_path;
    });
    for (const auto& p : order) {
        std::int64_t arrival = 0;
        std::uint64_t seq = 0;
        if (auto ec = each(row_of(files_[p.index], arrival, seq))) return ec;
    }
    return {};
}

void dir_mailbox::forget_cache() {
    // A mailbox in the middle of a call is in use, not idle: it keeps its cache.
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    // Items committed under group commit wait for flush(), which needs the log open.
    if (!unpublished_.empty() || !unsynced_dirs_.empty() || flushing_) return;
    decltype(files_)().swap(files_);
    decltype(by_name_)().swap(by_name_);
    scanned_ = false;
    log_.forget();
    write_lock_fd_.reset();  // no write holds it: writes run under mu_
}

std::string dir_mailbox::find_same_content(const finished_file& nf) {
    const auto* logged = log_.names_with_fingerprint(nf.fingerprint);
    if (logged == nullptr) return {};
    const std::vector<std::string> names(logged->begin(), logged->end());
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& name : names) {
            const meta_record* r = log_.find(name);
            if (r == nullptr || r->size != nf.size) continue;
            auto range = by_name_.equal_range(name);
            for (auto i = range.first; i != range.second; ++i) {
                const stored_file& f = files_[i->second];
                if (f.name.empty()) continue;
                std::string path = join_path(root_, f.rel_path);
                file_facts facts;
                if (probe(path, facts) == 0 && facts.is_regular && facts.size == nf.size)
                    return path;
            }
        }
        if (pass == 0 && rescan() != 0) break;
    }
    return {};
}

std::vector<located_item> dir_mailbox::find_live(const std::string& guid) {
    std::vector<std::string> names;
    if (const auto* logged = log_.names_with_guid(guid))
        names.assign(logged->begin(), logged->end());
    const bool logged_any = !names.empty();
    names.push_back(guid);  // a file without metadata is known by its name
    std::vector<located_item> out;
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& name : names) {
            auto range = by_name_.equal_range(name);
            for (auto i = range.first; i != range.second; ++i) {
                stored_file& f = files_[i->second];
                if (f.name.empty()) continue;  // removed since the scan
                file_facts facts;
                if (probe(join_path(root_, f.rel_path), facts) != 0 || !facts.is_regular) continue;
                f.size = facts.size;
                f.mtime_ns = facts.mtime_ns;
                f.ino = facts.ino;
                located_item li = describe(f);
                if (li.it.guid == guid) out.push_back(std::move(li));
            }
        }
        // The log knows the guid but the file is not where the last scan saw it: another
        // process or a mail reader moved it.
        if (!out.empty() || !logged_any || pass == 1) break;
        if (rescan() != 0) break;
    }
    return out;
}

stored_file* dir_mailbox::locate(const item& it, bool rescan_on_miss) {
    if (log_.refresh() != 0) return nullptr;
    const std::string want = status_of(it.tags);
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<std::string> names;
        if (const auto* logged = log_.names_with_guid(it.guid))
            names.assign(logged->begin(), logged->end());
        names.push_back(it.guid);
        stored_file* any = nullptr;
        for (const auto& name : names) {
            auto range = by_name_.equal_range(name);
            for (auto i = range.first; i != range.second; ++i) {
                stored_file& f = files_[i->second];
                if (f.name.empty()) continue;
                file_facts facts;
                if (probe(join_path(root_, f.rel_path), facts) != 0 || !facts.is_regular) continue;
                const meta_record* r = log_.find(f.name);
                const std::string& guid = r != nullptr && r->has_item ? r->guid : f.name;
                if (guid != it.guid) continue;
                // Two files may share a guid (a copy made by hand): prefer the one in the
                // folder the caller's tags name.
                if (f.status == want) return &f;
                if (any == nullptr) any = &f;
            }
        }
        if (any != nullptr || !rescan_on_miss || pass == 1) return any;
        if (rescan() != 0) return nullptr;
    }
    return nullptr;
}

boost::system::result<std::unique_ptr<core::message_source>> dir_mailbox::open_item(
    const item& it) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::string path;
        {
            std::lock_guard lock(mu_);
            const stored_file* f = locate(it, true);
            if (f == nullptr) return errc::not_found;
            path = join_path(root_, f->rel_path);
        }
        auto src = open_file_source(path, it.size, lower(it.fingerprint));
        if (src) return src;
        // Moved between locate and open (a flag change by a mail reader, a mark by another
        // process): look once more.
        if (src.error() != errc::not_found) {
            std::lock_guard lock(mu_);
            if (src.error() == errc::corrupt) {
                last_error_ = fmt::format(
                    "{} is not the message that was listed (its size or content changed)", path);
            } else {
                last_error_ = fmt::format("cannot read {}", path);
            }
            return src.error();
        }
        std::lock_guard lock(mu_);
        if (rescan() != 0) return errc::io_error;
    }
    return errc::not_found;
}

boost::system::result<std::unique_ptr<item_writer>> dir_mailbox::begin_add(item meta) {
    std::string temp_rel;
    unique_fd fd;
    bool group = false;
    {
        std::lock_guard lock(mu_);
        group = group_commit_;
        if (int err = ensure_root()) {
            if (err == ENOENT)
                return fail(errc::io_error, fmt::format("the store directory {} is gone", root_));
            return fail_errno(err, fmt::format("cannot prepare {}", root_));
        }
        std::string rel_dir;
        if (int err = layout_.temp_dir(root_, status_of(meta.tags), rel_dir))
            return fail_errno(err, fmt::format("cannot make the temporary directory in {}", root_));
        static const std::string host = maildir_host();
        temp_rel = join_path(rel_dir, unique_stem() + "." + host);
        std::string path = join_path(root_, temp_rel);
        fd.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) return fail_errno(errno, fmt::format("cannot create {}", path));
    }
    return std::unique_ptr<item_writer>(std::make_unique<dir_writer>(
        shared_from_this(), std::move(meta), std::move(temp_rel), std::move(fd), group));
}

void dir_mailbox::discard_temp(const std::string& temp_rel) noexcept {
    ::unlink(join_path(root_, temp_rel).c_str());
}

bool dir_mailbox::same_octets(const stored_file& f, const finished_file& nf) const {
    if (f.size != nf.size) return false;
    const meta_record* r = log_.find(f.name);
    if (r != nullptr && r->has_item && r->size == f.size) return r->fingerprint == nf.fingerprint;
    std::string hex;
    return hash_file(join_path(root_, f.rel_path), f.size, hex) == 0 && hex == nf.fingerprint;
}

boost::system::result<add_outcome> dir_mailbox::commit_add(item meta, const finished_file& nf) {
    std::lock_guard lock(mu_);
    struct temp_cleanup {
        dir_mailbox* box;
        const std::string* rel;
        bool armed = true;
        ~temp_cleanup() {
            if (armed) box->discard_temp(*rel);
        }
    } cleanup{this, &nf.temp_rel};

    auto write_lock = take_write_lock();
    if (!write_lock) return write_lock.error();
    if (int err = log_.refresh())
        return fail_errno(err, fmt::format("cannot read {}", log_.path()));
    if (!scanned_) {
        if (int err = rescan()) return fail_errno(err, last_error_);
    }

    auto held = clear_failure_records(meta.guid);
    if (!held) return held.error();
    if (*held && has_tag(meta, tag::pop3failed)) return add_outcome::already_present;

    // The same guid: already stored (the same octets) or a copy under "<guid>.dup<n>",
    // as the original's "....dup.eml".
    std::string guid = meta.guid;
    bool is_dup = false;
    for (unsigned n = 1;; ++n) {
        auto live = find_live(guid);
        if (live.empty()) break;
        for (const auto& li : live) {
            if (same_octets(li.file, nf)) return add_outcome::already_present;
        }
        is_dup = true;
        guid = meta.guid + ".dup" + (n == 1 ? std::string() : std::to_string(n));
    }
    // The same octets under another guid: recorded as a dup of that item, sharing its file
    // (a hard link) where the file system allows, so no second copy is kept.
    std::string link_from = find_same_content(nf);
    if (!link_from.empty()) is_dup = true;

    meta.guid = guid;
    if (is_dup) meta.tags = {std::string(tag::dup)};
    const std::string status = status_of(meta.tags);

    // Arrival order across processes: later than anything in the log (we hold the write
    // lock), even if the clock stepped back.
    std::int64_t stored = std::max(now_us(), std::max(last_stored_us_, log_.max_stored_us()) + 1);
    last_stored_us_ = stored;

    new_file_facts facts{meta.guid, meta.source_id, nf.size, nf.crlf_size};
    for (unsigned attempt = 1; attempt <= 1000; ++attempt) {
        std::string name = layout_.new_name(facts, attempt);
        if (layout_.name_taken(root_, name)) continue;
        std::string rel;
        if (int err = layout_.deliver_path(root_, name, status, rel))
            return fail_errno(err,
                              fmt::format("cannot make the folder for {} in {}", status, root_));

        add_line a;
        a.name = name;
        a.guid = meta.guid;
        a.source_id = meta.source_id;
        a.fingerprint = nf.fingerprint;
        a.size = nf.size;
        a.wire_size = nf.wire_size;
        a.wire_form_mtime_ns = nf.wire_form_mtime_ns;
        a.created_us = to_us(meta.created);
        a.stored_us = stored;
        if (meta.message_time) a.message_time_us = to_us(*meta.message_time);
        a.tags = meta.tags;
        if (group_commit_) {
            // The line now, its fsync and the rename at flush(): one fsync of the log then
            // serves a whole batch, and a name still never exists before its line is durable.
            if (int err = log_.append(format_add(a), false))
                return fail_errno(err, fmt::format("cannot append to {}", log_.path()));
            unpublished_.push_back({nf.temp_rel, rel, name, status, link_from});
            cleanup.armed = false;
            return is_dup ? add_outcome::duplicate : add_outcome::added;
        }
        // The metadata is durable before the file appears under its name.
        if (int err = log_.append(format_add(a), true))
            return fail_errno(err, fmt::format("cannot append to {}", log_.path()));

        const std::string target = join_path(root_, rel);
        int err = EEXIST;
        bool linked = false;
        if (!link_from.empty() && ::link(link_from.c_str(), target.c_str()) == 0) {
            err = 0;
            linked = true;
        }
        if (!linked) err = rename_no_replace(join_path(root_, nf.temp_rel), target);
        if (err == EEXIST) {
            // Someone put a file of that name there after our check: our line must not
            // describe it.
            (void)log_.append(format_gone(name), true);
            continue;
        }
        if (err != 0) {
            (void)log_.append(format_gone(name), false);
            return fail_errno(err, fmt::format("cannot rename {} to {}", nf.temp_rel, target));
        }
        if (!linked) cleanup.armed = false;
        if (int serr = fsync_dir(join_path(root_, dir_of(rel))))
            return fail_errno(serr, fmt::format("cannot fsync {}", join_path(root_, dir_of(rel))));
        remember_file(name, rel, status);
        return is_dup ? add_outcome::duplicate : add_outcome::added;
    }
    return fail(errc::io_error,
                fmt::format("no free file name for guid '{}' in {}", meta.guid, root_));
}

error_code dir_mailbox::change_tags(const item& it, const tag_rule& rule) {
    std::lock_guard lock(mu_);
    if (!exists()) return errc::not_found;
    if (int err = ensure_root()) return fail_errno(err, fmt::format("cannot prepare {}", root_));
    auto write_lock = take_write_lock();
    if (!write_lock) return write_lock.error();
    stored_file* found = locate(it, true);
    if (found == nullptr) return errc::not_found;
    const stored_file f = *found;
    located_item current = describe(f);
    std::vector<std::string> tags = rule(current.it.tags);
    if (tags == current.it.tags) return {};
    const std::string status = status_of(tags);

    if (int err = log_.append(format_tags(f.name, tags), true))
        return fail_errno(err, fmt::format("cannot append to {}", log_.path()));
    if (status == f.status) return {};

    std::string rel;
    if (int err = layout_.moved_path(root_, f, status, rel))
        return fail_errno(err, fmt::format("cannot make the folder for {} in {}", status, root_));
    const std::string from = join_path(root_, f.rel_path);
    const std::string to = join_path(root_, rel);
    if (int err = rename_no_replace(from, to)) {
        if (err == ENOENT) return errc::not_found;
        return fail_errno(err, fmt::format("cannot move {} to {}", from, to));
    }
    if (int err = fsync_dir(join_path(root_, dir_of(rel))))
        return fail_errno(err, fmt::format("cannot fsync {}", join_path(root_, dir_of(rel))));
    if (int err = fsync_dir(join_path(root_, dir_of(f.rel_path))))
        return fail_errno(err,
                          fmt::format("cannot fsync {}", join_path(root_, dir_of(f.rel_path))));
    found->rel_path = rel;
    found->status = status;
    return {};
}

error_code dir_mailbox::remove(const item& it) {
    std::lock_guard lock(mu_);
    if (!exists()) return errc::not_found;
    if (int err = ensure_root()) return fail_errno(err, fmt::format("cannot prepare {}", root_));
    auto write_lock = take_write_lock();
    if (!write_lock) return write_lock.error();
    stored_file* f = locate(it, true);
    if (f == nullptr) return errc::not_found;
    return remove_file(*f);
}

error_code dir_mailbox::remove_file(stored_file& f) {
    const std::string path = join_path(root_, f.rel_path);
    if (::unlink(path.c_str()) != 0) {
        int err = errno;
        if (err == ENOENT) return errc::not_found;
        return fail_errno(err, fmt::format("cannot remove {}", path));
    }
    if (int err = fsync_dir(join_path(root_, dir_of(f.rel_path))))
        return fail_errno(err,
                          fmt::format("cannot fsync {}", join_path(root_, dir_of(f.rel_path))));
    const std::string name = f.name;
    auto range = by_name_.equal_range(name);
    for (auto i = range.first; i != range.second; ++i) {
        if (&files_[i->second] == &f) {
            by_name_.erase(i);
            break;
        }
    }
    f.name.clear();
    // The log forgets the name unless a copy of the file (made by hand) is still there.
    if (by_name_.count(name) == 0) (void)log_.append(format_gone(name), false);
    return {};
}

// A record of a failed fetch (pop3failed) gives way to whatever is added under its guid, and
// never stands in for a stored message (mime_store::begin_add). True when a message with
// that guid is stored.
boost::system::result<bool> dir_mailbox::clear_failure_records(const std::string& guid) {
    bool stored = false;
    for (const auto& li : find_live(guid)) {
        if (!has_tag(li.it, tag::pop3failed)) {
            stored = true;
            continue;
        }
        auto range = by_name_.equal_range(li.file.name);
        for (auto i = range.first; i != range.second; ++i) {
            stored_file& f = files_[i->second];
            if (f.rel_path != li.file.rel_path) continue;
            if (auto ec = remove_file(f); ec && ec != errc::not_found)
                return boost::system::result<bool>(boost::system::in_place_error, ec);
            break;
        }
    }
    return stored;
}

boost::system::result<unique_fd> dir_mailbox::lock_maildrop() {
    std::lock_guard lock(mu_);
    std::string failed;
    (void)layout_.prepare(root_, failed);  // a read-only mailbox may still have a lock file
    std::string path = join_path(root_, layout_.maildrop_lock_file());
    unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd && (errno == EACCES || errno == EROFS))
        fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return fail_errno(errno, fmt::format("cannot open the maildrop lock {}", path));
    // flock locks belong to the open file description: a second open() of the same file,
    // in this process or another, conflicts just like a lock held elsewhere.
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK)
            return fail(errc::in_use, fmt::format("{} is locked by another session", path));
        return fail_errno(errno, fmt::format("cannot lock {}", path));
    }
    return fd;
}

std::string dir_mailbox::count_missing_wire_sizes() {
    std::string lines;
    for (const auto& f : files_) {
        std::int64_t arrival = 0;
        std::uint64_t seq = 0;
        if (row_of(f, arrival, seq).wire_size) continue;
        wire_note note{f.size, f.mtime_ns, 0, false};
        if (count_wire(join_path(root_, f.rel_path), note) != 0) continue;
        lines += format_wire(f.name, note);
    }
    return lines;
}

}  // namespace izypop3::store::detail
