// method querystore: inspect a message store (what the original left to a dashboard app):
// each item's guid, size, tags, date, From and Subject.

#include "common/exit_codes.hpp"
#include "querystore/item_headline.hpp"
#include "common/json.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "querystore/query_report.hpp"
#include "querystore/tag_change.hpp"
#include "common/terminal_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <ostream>

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description querystore_options() {
    po::options_description d("querystore");
    d.add_options()
        ("query.tags", po::value<std::vector<std::string>>()->composing()->value_name("TAG,..."),
         "items must carry every one of these tags; comma-separated or repeated; none = no "
         "tag filter")
        ("query.limit", po::value<count_value>()->default_value(count_value{10})->value_name("N"),
         "list at most this many items (0 = only count them)")
        ("query.order", po::value<choice<order_names>>()->default_value(choice<order_names>{"asc"})->value_name("asc|desc"),
         "the store's insertion order, or its reverse")
        ("format", po::value<choice<format_names>>()->default_value(choice<format_names>{"text"})->value_name("text|json"),
         "output format")
        ("mark", po::value<std::string>()->value_name("TAG"),
         "tag every item the query lists (the original's markAs): a status tag (unread, "
         "archive, staged, dup, conversionerror) replaces the item's status, any other tag "
         "is added; prints what changed")
        ("unmark", po::value<std::string>()->value_name("TAG"),
         "remove TAG from every item the query lists; an item whose status tag is removed is "
         "unread again; prints what changed");
    return d;
}

namespace {

constexpr std::size_t from_columns = 40;
constexpr std::size_t subject_columns = 60;

std::string joined(const std::vector<std::string>& tags) {
    std::string out;
    for (const auto& t : tags) out += (out.empty() ? "" : ",") + terminal_safe(t);
    return out;
}

void write_text(std::ostream& out, const query_run& run,
                const std::vector<item_headline>& heads) {
    const auto& r = run.result;
    out << fmt::format("store {}: {} item{} ({} octets); showing {}\n",
                       terminal_safe(run.store->kind()), r.count, r.count == 1 ? "" : "s",
                       r.total_size, r.items.size());
    if (r.items.empty()) return;
    std::size_t guid_w = 4, size_w = 4, tags_w = 4;
    for (const auto& it : r.items) {
        guid_w = std::max(guid_w, terminal_safe(it.guid).size());
        size_w = std::max(size_w, fmt::formatted_size("{}", it.size));
        tags_w = std::max(tags_w, joined(it.tags).size());
    }
    out << fmt::format("{:<{}}  {:>{}}  {:<20}  {:<{}}  {:<{}}  {}\n", "GUID", guid_w, "SIZE",
                       size_w, "RECEIVED", "TAGS", tags_w, "FROM", from_columns, "SUBJECT");
    for (std::size_t i = 0; i < r.items.size(); ++i) {
        const auto& it = r.items[i];
        const auto& h = heads[i];
        // fmt pads by code points, which is what a terminal shows for most mail text.
        const std::string from = terminal_safe(h.from, from_columns);
        const std::string subject =
            h.problem.empty() ? terminal_safe(h.subject, subject_columns) : "(" + h.problem + ")";
        out << fmt::format("{:<{}}  {:>{}}  {:<20}  {:<{}}  {:<{}}  {}\n",
                           terminal_safe(it.guid), guid_w, it.size, size_w,
                           iso8601_utc(it.created), joined(it.tags), tags_w, from, from_columns,
                           subject);
    }
}

void write_json(std::ostream& out, const query_run& run,
                const std::vector<item_headline>& heads) {
    const auto& r = run.result;
    boost::json::array items;
    for (std::size_t i = 0; i < r.items.size(); ++i) {
        boost::json::object item = query_item_json(r.items[i]);
        const item_headline& h = heads[i];
        item["from"] = json_string(h.from);
        item["subject"] = json_string(h.subject);
        item["date"] = json_string(h.date);
        if (!h.problem.empty()) item["problem"] = json_string(h.problem);
        items.emplace_back(std::move(item));
    }
    write_json_line(
        out, query_json(run.store->kind(), run.query.tags, run.query.limit, r, std::move(items)));
}

// mark or unmark, as asked; nullopt when neither (a usage error was printed if both).
std::optional<tag_change> tag_change_of(const po::variables_map& vm, std::ostream& err,
                                        bool& bad) {
    bad = false;
    if (vm.count("mark") && vm.count("unmark")) {
        err << "izypop3: querystore: give mark or unmark, not both; run them one after the "
               "other\n";
        bad = true;
        return std::nullopt;
    }
    std::optional<tag_change> change;
    if (vm.count("mark")) change = tag_change{tag_change::kind::mark, vm["mark"].as<std::string>()};
    if (vm.count("unmark"))
        change = tag_change{tag_change::kind::unmark, vm["unmark"].as<std::string>()};
    if (change) {
        if (auto why = refused_tag_change(*change)) {
            err << "izypop3: querystore: " << *why << '\n';
            bad = true;
            return std::nullopt;
        }
    }
    return change;
}

int run_tag_change(const query_run& run, const tag_change& change, std::ostream& out) {
    const auto changes = apply_tag_change(*run.store, run.result.items, change);
    if (run.json) {
        write_json_line(out, tag_changes_json(run.store->kind(), change, run.result.count, changes));
    } else {
        write_tag_changes_text(out, run.store->kind(), change, run.result.count, changes);
    }
    return all_applied(changes) ? exit_code::ok : exit_code::failure;
}

}  // namespace

int run_querystore(const invocation& inv, std::ostream& out, std::ostream& err) {
    bool bad = false;
    const auto change = tag_change_of(inv.options, err, bad);
    if (bad) return exit_code::usage;
    auto run = run_query(inv, err);
    if (!run) return exit_code::failure;
    if (change) return run_tag_change(*run, *change, out);
    std::vector<item_headline> heads;
    heads.reserve(run->result.items.size());
    for (const auto& it : run->result.items) heads.push_back(read_headline(*run->store, it));
    if (run->json) {
        write_json(out, *run, heads);
    } else {
        write_text(out, *run, heads);
        if (run->result.count == 0 && !run->query.tags.empty()) {
            if (auto note = unmatched_tags_note(*run->store, run->query.tags); !note.empty())
                out << note << '\n';
        }
    }
    return exit_code::ok;
}

}  // namespace izypop3::app
