#include "querystore/tag_change.hpp"

#include "common/json.hpp"
#include "common/terminal_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ostream>

namespace izypop3::app {
namespace {

using outcome = item_change::outcome;

constexpr std::size_t max_tag_octets = 200;

// A tag is written after query.tags, which splits at commas; the stores keep any octets, but
// what cannot be typed back into a query is refused.
bool typeable(std::string_view tag) {
    return !tag.empty() && tag.size() <= max_tag_octets &&
           std::none_of(tag.begin(), tag.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u <= 0x20 || u == 0x7f || c == ',';
           });
}

std::string_view verb(const tag_change& c) {
    return c.what == tag_change::kind::mark ? "mark" : "unmark";
}

std::string joined(const std::vector<std::string>& tags) {
    std::string out;
    for (const auto& t : tags) out += (out.empty() ? "" : ",") + terminal_safe(t);
    return out.empty() ? "(no tags)" : out;
}

std::string_view outcome_name(outcome o) {
    static constexpr std::array<std::string_view, 4> names{"changed", "unchanged", "refused",
                                                           "failed"};
    return names[static_cast<std::size_t>(o)];
}

std::size_t count_of(const std::vector<item_change>& changes, outcome o) {
    return static_cast<std::size_t>(std::count_if(
        changes.begin(), changes.end(), [o](const item_change& c) { return c.result == o; }));
}

item_change change_one(store::mime_store& store, const store::item& it, const tag_change& c) {
    item_change r{it.guid, it.mailbox, it.tags, it.tags, outcome::unchanged, {}};
    const bool mark = c.what == tag_change::kind::mark;
    r.after =
        mark ? store::tags_after_mark(it.tags, c.tag) : store::tags_after_unmark(it.tags, c.tag);
    if (r.after == r.before) return r;
    if (has_tag(it, store::tag::pop3failed) &&
        !std::count(r.after.begin(), r.after.end(), store::tag::pop3failed)) {
        r.after = r.before;
        r.result = outcome::refused;
        r.why = "a pop3failed record keeps its status until clientpop3 fetches the message";
        return r;
    }
    if (auto ec = mark ? store.mark(it, c.tag) : store.unmark(it, c.tag)) {
        r.after = r.before;
        r.result = outcome::failed;
        r.why = ec.message();
        return r;
    }
    r.result = outcome::changed;
    return r;
}

}  // namespace

std::optional<std::string> refused_tag_change(const tag_change& c) {
    if (!typeable(c.tag)) {
        return fmt::format(
            "{}: a tag is 1 to {} octets without spaces, commas or control "
            "characters",
            verb(c), max_tag_octets);
    }
    if (c.tag == store::tag::pop3failed) {
        return fmt::format(
            "{} pop3failed: only clientpop3 makes and ends pop3failed records "
            "(a record becomes a message only when the message is fetched)",
            verb(c));
    }
    if (c.what == tag_change::kind::unmark && c.tag == store::tag::unread) {
        return std::string(
            "unmark unread: every item has a status; mark another one instead "
            "(e.g. mark archive)");
    }
    return std::nullopt;
}

std::vector<item_change> apply_tag_change(store::mime_store& store,
                                          const std::vector<store::item>& items,
                                          const tag_change& change) {
    std::vector<item_change> out;
    out.reserve(items.size());
    for (const auto& it : items) out.push_back(change_one(store, it, change));
    return out;
}

void write_tag_changes_text(std::ostream& out, std::string_view store_kind,
                            const tag_change& change, std::uint64_t matching,
                            const std::vector<item_change>& changes) {
    out << fmt::format("store {}: {} {} on the {} listed of {} matching item{}\n",
                       terminal_safe(store_kind), verb(change), terminal_safe(change.tag),
                       changes.size(), matching, matching == 1 ? "" : "s");
    for (const auto& c : changes) {
        std::string name = terminal_safe(c.guid);
        if (!c.mailbox.empty()) name += fmt::format(" ({})", terminal_safe(c.mailbox));
        switch (c.result) {
            case outcome::changed:
                out << fmt::format("{}  {} -> {}\n", name, joined(c.before), joined(c.after));
                break;
            case outcome::unchanged:
                out << fmt::format("{}  {} (unchanged)\n", name, joined(c.before));
                break;
            default:
                out << fmt::format("{}  {} ({}: {})\n", name, joined(c.before),
                                   outcome_name(c.result), terminal_safe(c.why));
        }
    }
    out << fmt::format("{} changed, {} unchanged, {} refused, {} failed\n",
                       count_of(changes, outcome::changed), count_of(changes, outcome::unchanged),
                       count_of(changes, outcome::refused), count_of(changes, outcome::failed));
}

boost::json::object tag_changes_json(std::string_view store_kind, const tag_change& change,
                                     std::uint64_t matching,
                                     const std::vector<item_change>& changes) {
    boost::json::array items;
    for (const auto& c : changes) {
        boost::json::object o{{"guid", json_string(c.guid)},
                              {"mailbox", json_string(c.mailbox)},
                              {"before", json_strings(c.before)},
                              {"after", json_strings(c.after)},
                              {"outcome", json_string(outcome_name(c.result))}};
        if (!c.why.empty()) o["why"] = json_string(c.why);
        items.emplace_back(std::move(o));
    }
    return {{"store", json_string(store_kind)},
            {"action", json_string(verb(change))},
            {"tag", json_string(change.tag)},
            {"count", matching},
            {"selected", changes.size()},
            {"changed", count_of(changes, outcome::changed)},
            {"unchanged", count_of(changes, outcome::unchanged)},
            {"refused", count_of(changes, outcome::refused)},
            {"failed", count_of(changes, outcome::failed)},
            {"items", std::move(items)}};
}

bool all_applied(const std::vector<item_change>& changes) {
    return std::all_of(changes.begin(), changes.end(), [](const item_change& c) {
        return c.result == outcome::changed || c.result == outcome::unchanged;
    });
}

}  // namespace izypop3::app
