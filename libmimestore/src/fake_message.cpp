#include "fake_message.hpp"

#include "memory_source.hpp"

#include <izypop3/store/fake_store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <string_view>
#include <utility>

namespace izypop3::store::detail {
namespace {

// splitmix64's finaliser: a cheap, well-mixed hash, so every (seed, index, purpose) triple
// gets an independent-looking stream without any global generator state.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t hash3(std::uint64_t seed, std::uint64_t index, std::uint64_t purpose) {
    return mix(mix(mix(seed) ^ index) ^ purpose);
}

enum purpose : std::uint64_t { p_size = 1, p_date, p_sender, p_subject, p_fill, p_big };

class rng {
public:
    explicit rng(std::uint64_t state) : state_(state) {}
    std::uint64_t next() { return mix(state_++); }
    std::uint64_t below(std::uint64_t n) { return next() % n; }

private:
    std::uint64_t state_;
};

constexpr std::array<std::string_view, 24> words{
    "alpha",  "bravo",   "charlie", "delta", "echo",   "foxtrot", "golf",    "hotel",
    "india",  "juliett", "kilo",    "lima",  "mike",   "november", "oscar",  "papa",
    "quebec", "romeo",   "sierra",  "tango", "uniform", "victor", "whiskey", "yankee"};

constexpr std::array<std::string_view, 7> weekdays{"Sun", "Mon", "Tue", "Wed",
                                                   "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr std::uint64_t min_size = 600;     // enough for the headers and a few body lines
constexpr std::uint64_t size_spread = 3497; // sizes run from 600 to 4096 octets
constexpr std::uint64_t min_fill = 80;      // filler always gets at least one full line
constexpr std::int64_t base_time = 1704067200;  // 2024-01-01T00:00:00Z

// Howard Hinnant's days-to-civil algorithm, so the Date header needs no time zone database
// and no clock.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
}

// RFC 5322 section 3.3 date-time, always in UTC.
std::string rfc5322_date(std::int64_t t) {
    std::int64_t days = t / 86400;
    std::int64_t secs = t % 86400;
    std::int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, y, m, d);
    auto wd = static_cast<std::size_t>((days + 4) % 7);  // 1970-01-01 was a Thursday
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", weekdays[wd], d, months[m - 1],
                       y, secs / 3600, secs / 60 % 60, secs % 60);
}

std::int64_t message_seconds(std::uint64_t seed, std::uint64_t index) {
    return base_time + static_cast<std::int64_t>(index % 100000) * 3600 +
           static_cast<std::int64_t>(hash3(seed, index, p_date) % 3600);
}

// Writes one text line of exactly `chars` characters (no line end) from word material.
void word_line(rng& r, std::size_t chars, std::string& out) {
    std::size_t start = out.size();
    while (out.size() - start < chars) {
        if (out.size() != start) out.push_back(' ');
        out += words[r.below(words.size())];
    }
    out.resize(start + chars);
    if (chars > 0 && out.back() == ' ') out.back() = '.';  // no trailing white space
}

// Appends exactly `octets` (>= 2) of CRLF-terminated word lines of 40 to 78 octets.
void fill_lines(rng& r, std::uint64_t octets, std::string& out) {
    assert(octets == 0 || octets >= 2);
    while (octets > 0) {
        std::uint64_t len = octets <= 78 ? octets : 40 + r.below(39);
        if (octets - len == 1) --len;  // never leave one octet: a line needs CRLF
        word_line(r, static_cast<std::size_t>(len - 2), out);
        out += "\r\n";
        octets -= len;
    }
}

struct header_fields {
    std::string_view subject_note;
    bool utf8 = false;
};

std::string headers(std::uint64_t seed, std::uint64_t index, const header_fields& f) {
    std::string out;
    out += fmt::format("Date: {}\r\n", rfc5322_date(message_seconds(seed, index)));
    out += fmt::format("From: Fake Sender {0} <sender{0}@fake.izypop3.invalid>\r\n",
                       hash3(seed, index, p_sender) % 20);
    out += "To: POP3 User <user@fake.izypop3.invalid>\r\n";
    out += fmt::format("Subject: Fake message {} ({} {})\r\n", index,
                       words[hash3(seed, index, p_subject) % words.size()], f.subject_note);
    out += fmt::format("Message-ID: <fake.{}.{}@izypop3.invalid>\r\n", seed, index);
    out += "MIME-Version: 1.0\r\n";
    if (f.utf8) {
        out += "Content-Type: text/plain; charset=utf-8\r\n";
        out += "Content-Transfer-Encoding: 8bit\r\n";
    } else {
        out += "Content-Type: text/plain; charset=us-ascii\r\n";
        out += "Content-Transfer-Encoding: 7bit\r\n";
    }
    out += "\r\n";
    return out;
}

// An ordinary (not big) message: head (headers, blank line, fixed body lines), generated
// filler, and a tail that may lack its final CRLF.
struct small_plan {
    std::string head;
    std::string tail;
    std::uint64_t fill = 0;
    std::uint64_t size() const { return head.size() + fill + tail.size(); }
};

small_plan plan_small(std::uint64_t seed, std::uint64_t index) {
    small_plan p;
    header_fields f{"plain", false};
    std::string body = fmt::format("This is message {} of the izypop3 fake store (seed {}).\r\n",
                                   index, seed);
    switch (index) {
        case fake_edge::leading_dots:
            f.subject_note = "lines starting with dots";
            body += ".This line starts with one dot.\r\n";
            body += "..This line starts with two dots.\r\n";
            body += ". A dot and a space.\r\n";
            break;
        case fake_edge::lone_dot:
            f.subject_note = "a line that is only a dot";
            body += "The next line is a single dot; the message does not end there.\r\n";
            body += ".\r\n";
            body += "..\r\n";
            // The last line is a lone dot too: the terminator must still come after it.
            p.tail = ".\r\n";
            break;
        case fake_edge::eight_bit:
            f.subject_note = "8-bit octets";
            f.utf8 = true;
            body += "UTF-8: Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln, caf\xc3\xa9, "
                    "na\xc3\xafve, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e, "
                    "\xf0\x9f\x98\x80.\r\n";
            body += "Latin-1 (invalid UTF-8): caf\xe9 gr\xfc\xdf \xbfqu\xe9?\r\n";
            body += "All of 0xA0-0xFF: ";
            for (int c = 0xa0; c <= 0xff; ++c) body.push_back(static_cast<char>(c));
            body += "\r\n";
            break;
        case fake_edge::long_line:
            f.subject_note = "a 1200-octet line";
            for (int i = 0; i < 1200; ++i) body.push_back(static_cast<char>('a' + i % 26));
            body += "\r\n";
            break;
        case fake_edge::no_final_crlf:
            f.subject_note = "no final line break";
            p.tail = "This last line has no line break.";
            break;
        default:
            break;
    }
    p.head = headers(seed, index, f) + body;
    std::uint64_t target = min_size + hash3(seed, index, p_size) % size_spread;
    std::uint64_t fixed = p.head.size() + p.tail.size();
    p.fill = std::max(target, fixed + min_fill) - fixed;
    return p;
}

std::string build_small(std::uint64_t seed, std::uint64_t index) {
    small_plan p = plan_small(seed, index);
    std::string out = p.head;
    out.reserve(static_cast<std::size_t>(p.size()));
    rng r(hash3(seed, index, p_fill));
    fill_lines(r, p.fill, out);
    out += p.tail;
    assert(out.size() == p.size());
    return out;
}

// The big message: headers, then a body of 78-octet lines ("NNNNNNNNNN " + 65 generated
// letters + CRLF), preceded by one shorter or longer line that absorbs the remainder so
// the total is exactly bigsize. Any octet is computable from its offset, so reads never
// hold more than one line.
class big_layout {
public:
    static constexpr std::uint64_t line = 78;

    big_layout(std::uint64_t seed, std::uint64_t bigsize)
        : seed_(seed),
          head_(headers(seed, fake_edge::big, header_fields{"big", false})),
          size_(bigsize) {
        assert(bigsize >= head_.size() + 2 * line);
        std::uint64_t body = bigsize - head_.size();
        std::uint64_t rem = body % line;
        first_ = rem == 1 ? line + 1 : rem;  // a one-octet line cannot hold a CRLF
    }

    const std::string& head() const { return head_; }
    std::uint64_t size() const { return size_; }

    // Fills `out` with the octets of body line `k` (k = 0 is the first, odd-sized line when
    // first_ != 0) and returns the body offset where that line starts.
    std::uint64_t body_line(std::uint64_t offset_in_body, std::string& out) const {
        out.clear();
        if (offset_in_body < first_) {
            for (std::uint64_t i = 0; i + 2 < first_; ++i) out.push_back('-');
            out += "\r\n";
            return 0;
        }
        std::uint64_t k = (offset_in_body - first_) / line;
        out = fmt::format("{:010} ", k + 1);
        rng r(hash3(seed_, k, p_big));
        while (out.size() < line - 2) {
            std::uint64_t bits = r.next();
            for (int j = 0; j < 10 && out.size() < line - 2; ++j, bits >>= 6)
                out.push_back(static_cast<char>('A' + (bits & 63) % 26));
        }
        out += "\r\n";
        return first_ + k * line;
    }

private:
    std::uint64_t seed_;
    std::string head_;
    std::uint64_t size_;
    std::uint64_t first_ = 0;
};

class big_source final : public core::message_source {
public:
    explicit big_source(big_layout layout) : layout_(std::move(layout)) {}

    boost::system::result<std::size_t> read(std::span<char> buf) override {
        std::size_t done = 0;
        const std::string& head = layout_.head();
        while (done < buf.size() && pos_ < layout_.size()) {
            if (pos_ < head.size()) {
                auto n = std::min<std::uint64_t>(buf.size() - done, head.size() - pos_);
                std::memcpy(buf.data() + done, head.data() + pos_, n);
                done += n;
                pos_ += n;
                continue;
            }
            std::uint64_t body_pos = pos_ - head.size();
            if (line_.empty() || body_pos < line_start_ || body_pos >= line_start_ + line_.size())
                line_start_ = layout_.body_line(body_pos, line_);
            std::uint64_t in_line = body_pos - line_start_;
            auto n = std::min<std::uint64_t>(buf.size() - done, line_.size() - in_line);
            std::memcpy(buf.data() + done, line_.data() + in_line, n);
            done += n;
            pos_ += n;
        }
        return done;
    }

private:
    big_layout layout_;
    std::uint64_t pos_ = 0;
    std::string line_;
    std::uint64_t line_start_ = 0;
};

}  // namespace

item fake_generator::describe(std::uint64_t index) const {
    item it;
    it.guid = fmt::format("guid_{}", index);
    it.source_id = "fake";
    it.tags = {std::string(tag::unread)};
    auto t = std::chrono::system_clock::time_point(
        std::chrono::seconds(message_seconds(seed_, index)));
    it.message_time = t;
    // Deterministic: "received" a minute after it was written; the fake store reads no clock.
    it.created = t + std::chrono::minutes(1);
    if (index == fake_edge::big) {
        it.size = bigsize_;
        it.wire_size = bigsize_;
    } else {
        it.size = plan_small(seed_, index).size();
        it.wire_size = index == fake_edge::no_final_crlf ? it.size + 2 : it.size;
    }
    return it;
}

std::unique_ptr<core::message_source> fake_generator::open(std::uint64_t index) const {
    if (index == fake_edge::big) return std::make_unique<big_source>(big_layout(seed_, bigsize_));
    return std::make_unique<memory_source>(build_small(seed_, index));
}

}  // namespace izypop3::store::detail
