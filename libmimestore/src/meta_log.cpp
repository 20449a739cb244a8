#include "meta_log.hpp"

#include "fs_ops.hpp"
#include "sha256.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>

namespace izypop3::store::detail {

// A parsed line: kind, name and key=value fields (values still escaped).
struct meta_line {
    std::string_view kind;
    std::string name;
    std::vector<std::pair<std::string_view, std::string_view>> fields;

    std::optional<std::string_view> get(std::string_view key) const {
        for (const auto& f : fields)
            if (f.first == key) return f.second;
        return std::nullopt;
    }
};

namespace {

constexpr std::string_view header_line = "izypop3-meta 1";

bool needs_escape(unsigned char c) {
    return c < 0x21 || c > 0x7e || c == '%' || c == ',' || c == '=' || c == '#';
}

void append_escaped(std::string& out, std::string_view v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char ch : v) {
        auto c = static_cast<unsigned char>(ch);
        if (needs_escape(c)) {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(ch);
        }
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::optional<std::string> unescape(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '%') {
            out.push_back(v[i]);
            continue;
        }
        if (i + 2 >= v.size()) return std::nullopt;
        int hi = hex_value(v[i + 1]);
        int lo = hex_value(v[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::string escaped_list(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.push_back(',');
        append_escaped(out, items[i]);
    }
    return out;
}

std::optional<std::vector<std::string>> parse_list(std::string_view v) {
    std::vector<std::string> out;
    if (v.empty()) return out;
    for (;;) {
        auto comma = v.find(',');
        auto part = unescape(v.substr(0, comma));
        if (!part) return std::nullopt;
        out.push_back(std::move(*part));
        if (comma == std::string_view::npos) return out;
        v.remove_prefix(comma + 1);
    }
}

template <class Int>
std::optional<Int> parse_int(std::string_view v) {
    Int out{};
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return std::nullopt;
    return out;
}

std::string check_of(std::string_view body) {
    return sha256_hex(body).substr(0, 8);
}

// Closes the line: " #<check>\n".
std::string sealed(std::string body) {
    std::string check = check_of(body);
    body.append(" #").append(check).push_back('\n');
    return body;
}

std::string start_line(std::string_view kind, std::string_view name) {
    std::string out(kind);
    out.push_back(' ');
    append_escaped(out, name);
    return out;
}

void add_field(std::string& line, std::string_view key, std::string_view escaped_value) {
    line.push_back(' ');
    line.append(key).push_back('=');
    line.append(escaped_value);
}

void add_text_field(std::string& line, std::string_view key, std::string_view value) {
    std::string v;
    append_escaped(v, value);
    add_field(line, key, v);
}

std::optional<meta_line> parse_line(std::string_view line) {
    auto mark = line.rfind(" #");
    if (mark == std::string_view::npos) return std::nullopt;
    std::string_view body = line.substr(0, mark);
    if (line.substr(mark + 2) != check_of(body)) return std::nullopt;
    meta_line out;
    auto sp = body.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    out.kind = body.substr(0, sp);
    body.remove_prefix(sp + 1);
    sp = body.find(' ');
    auto name = unescape(body.substr(0, sp));
    if (!name || name->empty()) return std::nullopt;
    out.name = std::move(*name);
    while (sp != std::string_view::npos) {
        body.remove_prefix(sp + 1);
        sp = body.find(' ');
        std::string_view token = body.substr(0, sp);
        auto eq = token.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        out.fields.emplace_back(token.substr(0, eq), token.substr(eq + 1));
    }
    return out;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

std::string format_utc_us(std::int64_t us) {
    std::int64_t secs = floor_div(us, 1000000);
    auto frac = static_cast<int>(us - secs * 1000000);
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::optional<std::int64_t> parse_utc_us(std::string_view text) {
    // Exactly YYYY-MM-DDTHH:MM:SS.ffffffZ, as format_utc_us writes it.
    if (text.size() != 27 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text[19] != '.' || text[26] != 'Z')
        return std::nullopt;
    auto num = [&](std::size_t at, std::size_t len) {
        return parse_int<int>(text.substr(at, len));
    };
    auto year = num(0, 4), mon = num(5, 2), day = num(8, 2), hour = num(11, 2), min = num(14, 2),
         sec = num(17, 2), frac = num(20, 6);
    if (!year || !mon || !day || !hour || !min || !sec || !frac) return std::nullopt;
    if (*mon < 1 || *mon > 12 || *day < 1 || *day > 31 || *hour > 23 || *min > 59 || *sec > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *mon - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *min;
    tm.tm_sec = *sec;
    std::int64_t secs = ::timegm(&tm);
    return secs * 1000000 + *frac;
}

std::string format_add(const add_line& a) {
    std::string line = start_line("add", a.name);
    add_text_field(line, "guid", a.guid);
    add_text_field(line, "source", a.source_id);
    add_text_field(line, "fp", a.fingerprint);
    add_field(line, "size", std::to_string(a.size));
    add_field(line, "wire", std::to_string(a.wire_size));
    if (a.wire_form_mtime_ns) {
        add_field(line, "form", "wire");
        add_field(line, "mtime", std::to_string(*a.wire_form_mtime_ns));
    }
    add_field(line, "created", format_utc_us(a.created_us));
    add_field(line, "stored", format_utc_us(a.stored_us));
    if (a.message_time_us) add_field(line, "msgtime", format_utc_us(*a.message_time_us));
    add_field(line, "tags", escaped_list(a.tags));
    return sealed(std::move(line));
}

std::string format_tags(std::string_view name, const std::vector<std::string>& tags) {
    std::string line = start_line("tags", name);
    add_field(line, "tags", escaped_list(tags));
    return sealed(std::move(line));
}

std::string format_wire(std::string_view name, const wire_note& w) {
    std::string line = start_line("wire", name);
    add_field(line, "size", std::to_string(w.size));
    add_field(line, "mtime", std::to_string(w.mtime_ns));
    add_field(line, "wire", std::to_string(w.wire));
    if (w.wire_form) add_field(line, "form", "wire");
    return sealed(std::move(line));
}

std::string format_gone(std::string_view name) {
    return sealed(start_line("gone", name));
}

meta_log::meta_log(std::string path) : path_(std::move(path)) {}

meta_log::~meta_log() {
    if (read_fd_ >= 0) ::close(read_fd_);
    if (append_fd_ >= 0) ::close(append_fd_);
}

void meta_log::reset_state() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    read_ino_ = 0;
    offset_ = 0;
    lines_ = 0;
    bad_lines_ = 0;
    max_stored_us_ = 0;
    records_.clear();
    by_guid_.clear();
    by_fingerprint_.clear();
}

void meta_log::forget() {
    reset_state();
    // clear() keeps a map's bucket array; a forgotten log keeps nothing.
    decltype(records_)().swap(records_);
    decltype(by_guid_)().swap(by_guid_);
    decltype(by_fingerprint_)().swap(by_fingerprint_);
    if (append_fd_ >= 0) {
        ::close(append_fd_);
        append_fd_ = -1;
        append_ino_ = 0;
    }
}

int meta_log::refresh() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        int err = errno;
        if (err != ENOENT) return err;
        if (read_fd_ >= 0 || !records_.empty()) reset_state();
        return 0;
    }
    if (read_fd_ < 0 || static_cast<std::uint64_t>(st.st_ino) != read_ino_ ||
        static_cast<std::uint64_t>(st.st_size) < offset_) {
        reset_state();
        read_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (read_fd_ < 0) {
            int err = errno;
            return err == ENOENT ? 0 : err;
        }
        struct stat fst {};
        if (::fstat(read_fd_, &fst) != 0) return errno;
        read_ino_ = static_cast<std::uint64_t>(fst.st_ino);
    }
    std::string data;
    char buf[65536];
    for (;;) {
        ssize_t n = ::pread(read_fd_, buf, sizeof buf, static_cast<off_t>(offset_ + data.size()));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t at = 0;
    for (;;) {
        auto nl = data.find('\n', at);
        if (nl == std::string::npos) break;
        std::string_view line(data.data() + at, nl - at);
        bool last = nl + 1 == data.size();
        if (lines_ == 0 && line == header_line) {
            ++lines_;
        } else if (apply(line)) {
            // applied (or counted as bad if its content made no sense)
        } else if (last) {
            // Maybe a record still being written by another process: look again next time.
            // A torn record left by a crash stays here until a writer appends after it.
            break;
        } else {
            ++lines_;
            ++bad_lines_;
        }
        at = nl + 1;
    }
    offset_ += at;
    return 0;
}

void meta_log::unindex(const std::string& name, const meta_record& r) {
    if (!r.has_item) return;
    if (auto g = by_guid_.find(r.guid); g != by_guid_.end()) {
        g->second.erase(name);
        if (g->second.empty()) by_guid_.erase(g);
    }
    if (auto f = by_fingerprint_.find(r.fingerprint); f != by_fingerprint_.end()) {
        f->second.erase(name);
        if (f->second.empty()) by_fingerprint_.erase(f);
    }
}

bool meta_log::apply(std::string_view line) {
    auto p = parse_line(line);
    if (!p) return false;
    ++lines_;
    apply_parsed(*p);
    return true;
}

void meta_log::apply_parsed(const meta_line& pl) {
    const auto* p = &pl;
    const std::string& name = p->name;
    if (p->kind == "gone") {
        if (auto r = records_.find(name); r != records_.end()) {
            unindex(name, r->second);
            records_.erase(r);
        }
        return;
    }
    if (p->kind == "tags") {
        auto tags = parse_list(p->get("tags").value_or(""));
        if (!tags) {
            ++bad_lines_;
            return;
        }
        records_[name].tags = std::move(*tags);
        return;
    }
    if (p->kind == "wire") {
        auto size = parse_int<std::uint64_t>(p->get("size").value_or(""));
        auto mtime = parse_int<std::int64_t>(p->get("mtime").value_or(""));
        auto wire = parse_int<std::uint64_t>(p->get("wire").value_or(""));
        if (!size || !mtime || !wire) {
            ++bad_lines_;
            return;
        }
        records_[name].wire = wire_note{*size, *mtime, *wire, p->get("form") == "wire"};
        return;
    }
    if (p->kind != "add") {
        ++bad_lines_;  // a kind from a newer izypop3: ignored, the rest still counts
        return;
    }
    meta_record r;
    r.has_item = true;
    auto guid = unescape(p->get("guid").value_or(""));
    auto source = unescape(p->get("source").value_or(""));
    auto fp = unescape(p->get("fp").value_or(""));
    auto size = parse_int<std::uint64_t>(p->get("size").value_or(""));
    auto wire = parse_int<std::uint64_t>(p->get("wire").value_or(""));
    auto created = parse_utc_us(p->get("created").value_or(""));
    auto stored = parse_utc_us(p->get("stored").value_or(""));
    auto tags = parse_list(p->get("tags").value_or(""));
    if (!guid || guid->empty() || !source || !fp || !size || !wire || !created || !stored ||
        !tags) {
        ++bad_lines_;
        return;
    }
    if (auto mt = p->get("msgtime")) {
        auto v = parse_utc_us(*mt);
        if (!v) {
            ++bad_lines_;
            return;
        }
        r.message_time_us = *v;
    }
    if (p->get("form") == "wire") {
        // Without its mtime the claim could not be tied to the file: not trusted then.
        if (auto mt = parse_int<std::int64_t>(p->get("mtime").value_or("")))
            r.wire_form_mtime_ns = *mt;
    }
    r.guid = std::move(*guid);
    r.source_id = std::move(*source);
    r.fingerprint = std::move(*fp);
    r.size = *size;
    r.wire_size = *wire;
    r.created_us = *created;
    r.stored_us = *stored;
    r.tags = std::move(*tags);
    r.seq = lines_;
    max_stored_us_ = std::max(max_stored_us_, r.stored_us);
    if (auto old = records_.find(name); old != records_.end()) unindex(name, old->second);
    by_guid_[r.guid].insert(name);
    by_fingerprint_[r.fingerprint].insert(name);
    records_.insert_or_assign(name, std::move(r));
}

int meta_log::append(std::string_view lines, bool durable) {
    struct stat st {};
    bool reopen = append_fd_ < 0;
    if (!reopen) {
        if (::stat(path_.c_str(), &st) != 0 || static_cast<std::uint64_t>(st.st_ino) != append_ino_)
            reopen = true;
    }
    if (reopen) {
        if (append_fd_ >= 0) ::close(append_fd_);
        append_fd_ =
            ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (append_fd_ < 0) return errno;
    }
    if (::fstat(append_fd_, &st) != 0) return errno;
    append_ino_ = static_cast<std::uint64_t>(st.st_ino);
    std::string out;
    const bool created = st.st_size == 0;
    if (created) {
        out.append(header_line).push_back('\n');
    } else {
        // O_RDWR above: this pread needs a readable descriptor.
        char last = '\n';
        if (::pread(append_fd_, &last, 1, st.st_size - 1) == 1 && last != '\n') out.push_back('\n');
    }
    out.append(lines);
    if (int err = write_all(append_fd_, out)) return err;
    if (created) new_file_unsynced_ = true;
    if (durable) {
        if (int err = sync()) return err;
    }
    return refresh();
}

int meta_log::sync() {
    if (append_fd_ < 0) return 0;
    if (int err = fsync_fd(append_fd_)) return err;
    if (new_file_unsynced_) {
        auto slash = path_.rfind('/');
        if (int err =
                fsync_dir(slash == std::string::npos ? std::string(".") : path_.substr(0, slash)))
            return err;
        new_file_unsynced_ = false;
    }
    return 0;
}

const meta_record* meta_log::find(const std::string& name) const {
    auto r = records_.find(name);
    return r == records_.end() ? nullptr : &r->second;
}

const std::set<std::string>* meta_log::names_with_guid(const std::string& guid) const {
    auto r = by_guid_.find(guid);
    return r == by_guid_.end() ? nullptr : &r->second;
}

const std::set<std::string>* meta_log::names_with_fingerprint(const std::string& fp) const {
    auto r = by_fingerprint_.find(fp);
    return r == by_fingerprint_.end() ? nullptr : &r->second;
}

}  // namespace izypop3::store::detail
