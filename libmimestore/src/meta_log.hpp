#pragma once
// The metadata log of a directory store: one text line per event, appended and fsynced,
// never rewritten in place. It records what a file name cannot hold (guid, source id,
// fingerprint, sizes, tags, times) keyed by the message file's name. docs/stores.md
// describes the format; in short:
//
//   izypop3-meta 1
//   add <name> guid=<g> source=<s> fp=<hex> size=<n> wire=<n> [form=wire mtime=<ns>] created=<utc>
//   stored=<utc> [msgtime=<utc>] tags=<t,t> #<check> tags <name> tags=<t,t> #<check> wire <name>
//   size=<n> mtime=<ns> wire=<n> [form=wire] #<check>
//
// form=wire: the file's octets are their own POP3 wire body (CRLF line ends, no line
// starting with "."), so they may be sent as they are, while the file keeps that size and
// mtime. Readers that do not know the field ignore it.
//   gone <name> #<check>
//
// Values are percent-encoded (octets outside 0x21-0x7E and % , = #); times are UTC with
// microseconds, e.g. 2024-05-01T12:34:56.123456Z; <check> is the first 8 hex digits of the
// SHA-256 of the line before " #". A line that is cut short (a crash while appending) or
// damaged fails its check and is ignored; a writer that finds the file not ending in a
// newline starts with one, so the next record never joins a torn one.

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace izypop3::store::detail {

struct meta_line;

/// Wire size of a file the log has no item for, remembered so that the next session need
/// not read the file again; valid while the file keeps this size and mtime.
struct wire_note {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t wire = 0;
    bool wire_form = false;  ///< the octets are their own wire body (form=wire)
};

/// What the log knows about one file name.
struct meta_record {
    /// An "add" line was seen: the item fields below are set.
    bool has_item = false;
    std::string guid;
    std::string source_id;
    std::string fingerprint;
    std::uint64_t size = 0;
    std::uint64_t wire_size = 0;
    /// form=wire with the file's mtime when the octets were written (see the header).
    std::optional<std::int64_t> wire_form_mtime_ns;
    std::int64_t created_us = 0;
    std::int64_t stored_us = 0;
    std::optional<std::int64_t> message_time_us;
    /// Position of the "add" line among all lines: the order of arrival.
    std::uint64_t seq = 0;
    /// From the "add" line or a later "tags" line.
    std::optional<std::vector<std::string>> tags;
    std::optional<wire_note> wire;
};

/// One "add" line's content.
struct add_line {
    std::string name;
    std::string guid;
    std::string source_id;
    std::string fingerprint;
    std::uint64_t size = 0;
    std::uint64_t wire_size = 0;
    std::optional<std::int64_t> wire_form_mtime_ns;  ///< written as form=wire mtime=<ns>
    std::int64_t created_us = 0;
    std::int64_t stored_us = 0;
    std::optional<std::int64_t> message_time_us;
    std::vector<std::string> tags;
};

std::string format_add(const add_line& a);
std::string format_tags(std::string_view name, const std::vector<std::string>& tags);
std::string format_wire(std::string_view name, const wire_note& w);
std::string format_gone(std::string_view name);

/// "2024-05-01T12:34:56.123456Z" for microseconds since the Unix epoch, and back.
std::string format_utc_us(std::int64_t us);
std::optional<std::int64_t> parse_utc_us(std::string_view text);

/// The log file of one store directory, read incrementally: refresh() reads only what was
/// appended since the last call (by this process or another), or everything again when the
/// file was replaced. Not thread-safe: the owner serialises calls.
class meta_log {
  public:
    explicit meta_log(std::string path);
    ~meta_log();
    meta_log(const meta_log&) = delete;
    meta_log& operator=(const meta_log&) = delete;

    const std::string& path() const noexcept { return path_; }

    /// Catches up with the file. Returns 0 or the errno of a failed read (a missing file is
    /// an empty log).
    int refresh();

    /// Appends complete lines (each ending in '\n') and, when `durable`, fsyncs the file
    /// before returning; then reads them back. The caller holds the store's write lock.
    /// Creates the file (with its header line) when absent. Returns 0 or the errno.
    int append(std::string_view lines, bool durable);
    /// Makes every line appended so far durable (and a log file created since, its name).
    int sync();

    const meta_record* find(const std::string& name) const;
    /// Names whose "add" line carries this guid / fingerprint.
    const std::set<std::string>* names_with_guid(const std::string& guid) const;
    const std::set<std::string>* names_with_fingerprint(const std::string& fp) const;

    /// The latest "stored" time of any add line (0 when none): new items get a later one.
    std::int64_t max_stored_us() const noexcept { return max_stored_us_; }

    /// Lines that failed their check or did not parse, since the log was last read whole.
    std::uint64_t bad_lines() const noexcept { return bad_lines_; }

    /// Forgets what was read (memory) and closes the file; the next refresh() reads it from
    /// the start. Not while lines appended without `durable` wait for sync().
    void forget();

  private:
    void reset_state();
    bool apply(std::string_view line);  // false: the line fails its check
    void apply_parsed(const meta_line& p);
    void unindex(const std::string& name, const meta_record& r);

    std::string path_;
    int read_fd_ = -1;
    std::uint64_t read_ino_ = 0;
    std::uint64_t offset_ = 0;  // bytes consumed (always just after a '\n')
    std::uint64_t lines_ = 0;
    std::uint64_t bad_lines_ = 0;
    std::int64_t max_stored_us_ = 0;
    int append_fd_ = -1;
    std::uint64_t append_ino_ = 0;
    bool new_file_unsynced_ = false;  // created by a non-durable append
    std::unordered_map<std::string, meta_record> records_;
    std::unordered_map<std::string, std::set<std::string>> by_guid_;
    std::unordered_map<std::string, std::set<std::string>> by_fingerprint_;
};

}  // namespace izypop3::store::detail
