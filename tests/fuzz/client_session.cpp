// libFuzzer target (SECURITY F03): arbitrary server bytes into core::client_session through
// login (any mechanism, STLS on or off, some skipped as auth auto does after failures) and a
// pipeline of every request kind; what STAT, LIST and UIDL answer goes through
// core::maildrop_listing as a backup would check it.
//
// Input layout: byte 0 picks the configuration, byte 1 is a separator; the rest is what the
// server sends, cut into reads at each occurrence of the separator. The client must never
// crash, hang, leak or ask for input after the connection ended.

#include <izypop3/core/client_session.hpp>
#include <izypop3/core/maildrop_listing.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace izypop3::core;

constexpr std::array<std::string_view, 10> mechanisms{
    "auto",     "user",        "apop",          "plain",   "login",
    "cram-md5", "scram-sha-1", "scram-sha-256", "xoauth2", "oauthbearer"};

random_source fixed_random() {
    return [](std::size_t n) { return std::string(n, 'r'); };
}

// Reads every octet of a view so the sanitizers see a dangling one.
std::size_t touch(std::string_view s) {
    std::size_t sum = 0;
    for (char ch : s) sum += static_cast<unsigned char>(ch);
    return sum;
}

struct request_ids {
    std::uint64_t stat = 0, list = 0, uidl = 0;
};

request_ids submit_all(client_session& s) {
    request_ids ids;
    auto add = [&](request_kind k, std::uint32_t n = 0, std::uint64_t lines = 0,
                   std::uint64_t max_octets = 0) {
        request r;
        r.kind = k;
        r.number = n;
        r.lines = lines;
        r.max_octets = max_octets;
        return s.submit(r);
    };
    ids.stat = add(request_kind::stat);
    ids.list = add(request_kind::list);
    ids.uidl = add(request_kind::uidl);
    add(request_kind::list, 1);
    add(request_kind::uidl, 2);
    add(request_kind::top, 1, 3, 64);
    add(request_kind::retr, 1);
    add(request_kind::retr, 2, 0, 16);
    add(request_kind::capa);
    add(request_kind::dele, 1);
    add(request_kind::noop);
    add(request_kind::rset);
    add(request_kind::quit);
    return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t flags = data[0];
    const char separator = static_cast<char>(data[1]);
    const std::string_view wire(reinterpret_cast<const char*>(data + 2), size - 2);

    std::vector<std::string_view> reads;
    for (std::size_t pos = 0; pos <= wire.size();) {
        const auto cut = wire.find(separator, pos);
        const auto end = cut == std::string_view::npos ? wire.size() : cut;
        reads.push_back(wire.substr(pos, end - pos));
        if (cut == std::string_view::npos) break;
        pos = cut + 1;
    }

    client_config c;
    c.user = "alice";
    c.secret = "wonderland";
    c.host = "pop.example.org";
    c.port = 110;
    c.random = fixed_random();
    c.tls_active = (flags & 0x01) != 0;
    c.allow_plaintext = (flags & 0x02) != 0;
    c.pipelining = (flags & 0x04) != 0;
    c.pipeline_window = 1 + (flags >> 6);
    // Shares its bit with the window: pipelining without PIPELINING in CAPA is reached too.
    c.force_pipelining = (flags & 0x40) != 0;
    c.mechanism = std::string(mechanisms[(flags >> 3) % mechanisms.size()]);
    c.starttls = (flags & 0x80) != 0 ? starttls_policy::required : starttls_policy::if_offered;
    c.xoauth2_two_step = (flags & 0x20) != 0;
    // As after failed logins in auth auto (issue 18): the next strongest mechanism is chosen.
    if ((flags & 0x10) != 0) c.skip_mechanisms = {"scram-sha-256", "APOP", "cram-md5"};
    c.max_status_line = 512;
    c.body_chunk = 1 + (flags & 0x3f);
    c.max_listing_entries = 64;

    client_session s(std::move(c));
    std::size_t next_read = 0;
    bool eof = false;
    bool tls_ok = true;
    std::size_t sink = 0;
    request_ids ids;
    maildrop_listing listing(64, true);
    for (int guard = 0; guard < 1'000'000; ++guard) {
        auto a = s.next();
        if (auto* send = std::get_if<client_action::send>(&a)) {
            if (send->bytes.empty()) std::abort();
            sink += touch(send->bytes);
        } else if (std::holds_alternative<client_action::need_input>(a)) {
            if (eof) std::abort();  // nothing more can come: the client would hang
            if (next_read < reads.size()) {
                s.feed(reads[next_read++]);
            } else {
                s.feed_eof();
                eof = true;
            }
        } else if (std::holds_alternative<client_action::start_tls>(a)) {
            s.complete_tls(tls_ok);
            tls_ok = !tls_ok;
        } else if (auto* l = std::get_if<client_action::logged_in>(&a)) {
            sink += touch(l->mechanism);
            ids = submit_all(s);
        } else if (auto* r = std::get_if<client_action::response>(&a)) {
            sink += touch(r->code) + touch(r->text) + touch(r->uid) + r->a + r->b;
            if (r->id == ids.stat)
                r->ok ? (void)listing.stat(r->a, r->b) : (void)listing.reject("-ERR");
            if (r->id == ids.list && !r->ok) listing.reject("-ERR");
            // A server without UIDL: the listing goes on without UIDs, as a backup's does.
            if (r->id == ids.uidl && !r->ok) listing.drop_uids();
        } else if (auto* e = std::get_if<client_action::listing_entry>(&a)) {
            sink += touch(e->uid) + e->size;
            if (e->id == ids.list) listing.size(e->number, e->size);
            if (e->id == ids.uidl) listing.uid(e->number, e->uid);
        } else if (auto* le = std::get_if<client_action::listing_end>(&a)) {
            if (le->id == ids.uidl && listing.finish()) {
                for (const auto& m : listing.messages()) sink += touch(m.uid) + m.size + m.number;
            }
            sink += touch(listing.problem());
        } else if (auto* b = std::get_if<client_action::body>(&a)) {
            if (b->data.empty()) std::abort();
            sink += touch(b->data);
        } else if (auto* f = std::get_if<client_action::failed>(&a)) {
            sink += touch(f->detail);
            return sink == 0 ? 0 : 0;
        } else if (std::holds_alternative<client_action::closed>(a)) {
            return 0;
        }
        sink += touch(s.greeting()) + touch(s.apop_timestamp());
    }
    std::abort();  // no progress in a million steps: a loop
}
