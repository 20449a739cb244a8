#include <izypop3/core/sasl/server_mechanism.hpp>

#include "sasl/server_mechanisms.hpp"

#include <algorithm>

namespace izypop3::core::sasl {
namespace {

char ascii_upper(char c) noexcept {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_upper(x) == ascii_upper(y);
           });
}

}  // namespace

step_result server_mechanism::resume(const std::optional<stored_secret>&) {
    // Only mechanisms that return step::need_secret are ever resumed.
    return step::failure{"mechanism does not look up secrets", false};
}

step_result server_mechanism::resume_derived(const scram_secret&) {
    return step::failure{"mechanism does not derive keys", false};
}

step_result server_mechanism::resume_token(const std::optional<std::string>&) {
    return step::failure{"mechanism does not take bearer tokens", false};
}

server_registry server_registry::with_builtins() {
    server_registry r;
    // Registration order is the preference order all() reports (strongest first): SCRAM
    // never exposes the password, CRAM-MD5 does not send it but needs it stored, PLAIN and
    // LOGIN send it in clear (RFC 4616 section 6).
    r.add({"SCRAM-SHA-256", false, {true, false, true}, false}, [](const server_context& ctx) {
        return detail::make_scram_server(hash_algorithm::sha256, ctx);
    });
    r.add({"SCRAM-SHA-1", false, {true, true, false}, false}, [](const server_context& ctx) {
        return detail::make_scram_server(hash_algorithm::sha1, ctx);
    });
    r.add({"CRAM-MD5", false, {true, false, false}, false},
          [](const server_context& ctx) { return detail::make_cram_md5_server(ctx); });
    r.add({"PLAIN", true, {}, false},
          [](const server_context&) { return detail::make_plain_server(); });
    r.add({"LOGIN", true, {}, false},
          [](const server_context&) { return detail::make_login_server(); });
    // A bearer token is as good as a password to whoever reads it: cleartext rule.
    r.add({"OAUTHBEARER", true, {}, false, true},
          [](const server_context&) { return detail::make_oauthbearer_server(); });
    r.add({"XOAUTH2", true, {}, false, true},
          [](const server_context&) { return detail::make_xoauth2_server(); });
    return r;
}

void server_registry::add(mechanism_traits traits, mechanism_factory factory) {
    traits.name = upper(traits.name);
    for (auto& e : entries_) {
        if (e.traits.name == traits.name) {  // replaced in place: keeps its preference rank
            e.traits = std::move(traits);
            e.factory = std::move(factory);
            return;
        }
    }
    entries_.push_back({std::move(traits), std::move(factory)});
}

void server_registry::remove(std::string_view name) {
    std::erase_if(entries_, [&](const entry& e) { return iequals(e.traits.name, name); });
}

const mechanism_traits* server_registry::find(std::string_view name) const {
    for (const auto& e : entries_)
        if (iequals(e.traits.name, name)) return &e.traits;
    return nullptr;
}

std::unique_ptr<server_mechanism> server_registry::create(std::string_view name,
                                                          const server_context& ctx) const {
    for (const auto& e : entries_)
        if (iequals(e.traits.name, name)) return e.factory ? e.factory(ctx) : nullptr;
    return nullptr;
}

std::vector<const mechanism_traits*> server_registry::all() const {
    std::vector<const mechanism_traits*> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(&e.traits);
    return out;
}

}  // namespace izypop3::core::sasl
