#include "querystore/query_report.hpp"

#include "common/exit_codes.hpp"
#include "common/store_opening.hpp"
#include "common/json.hpp"
#include "cli/option_types.hpp"

#include <izypop3/store/store_factory.hpp>
#include <izypop3/transport/logger.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/algorithm/string/split.hpp>
#include <boost/algorithm/string/trim.hpp>

#include <algorithm>
#include <ctime>
#include <ostream>
#include <set>

namespace izypop3::app {

namespace {

/// Store and user text is shown on a terminal: no control characters may get through.
std::string shown(std::string_view text) { return transport::sanitize_for_log(text); }

std::string tag_list(const std::vector<std::string>& tags) {
    std::string out = "[";
    for (std::size_t i = 0; i < tags.size(); ++i) {
        if (i != 0) out += ", ";
        out += shown(tags[i]);
    }
    return out + "]";
}

}  // namespace

std::vector<std::string> split_tags(const std::vector<std::string>& values) {
    std::vector<std::string> tags;
    std::vector<std::string> pieces;
    for (const std::string& value : values) {
        boost::algorithm::split(pieces, value, [](char c) { return c == ','; });
        for (std::string& piece : pieces) {
            boost::algorithm::trim_if(piece, [](char c) { return c == ' '; });
            if (!piece.empty() && std::find(tags.begin(), tags.end(), piece) == tags.end())
                tags.push_back(std::move(piece));
        }
    }
    return tags;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    const std::time_t seconds =
        std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(seconds));
}

void write_query_text(std::ostream& out, std::string_view store_kind,
                      const std::vector<std::string>& tags, const store::query_result& r) {
    const bool one = r.count == 1;
    std::string header = fmt::format("store {}: {} item{}", shown(store_kind), r.count,
                                     one ? "" : "s");
    if (!tags.empty()) header += fmt::format(" match{} tags {}", one ? "es" : "", tag_list(tags));
    header += fmt::format(" ({} octets); showing {}\n", r.total_size, r.items.size());
    out << header;

    std::size_t guid_width = 0;
    std::size_t size_width = 0;
    std::vector<std::string> guids;
    guids.reserve(r.items.size());
    for (const store::item& it : r.items) {
        guids.push_back(shown(it.guid));
        guid_width = std::max(guid_width, guids.back().size());
        size_width = std::max(size_width, fmt::formatted_size("{}", it.size));
    }
    for (std::size_t i = 0; i < r.items.size(); ++i) {
        std::string item_tags;
        for (const std::string& t : r.items[i].tags) {
            if (!item_tags.empty()) item_tags += ',';
            item_tags += shown(t);
        }
        out << fmt::format("{:<{}}  {:>{}} octets  tags={}\n", guids[i], guid_width,
                           r.items[i].size, size_width, item_tags);
    }
}

boost::json::object query_item_json(const store::item& it) {
    return {{"guid", json_string(it.guid)},
            {"size", it.size},
            {"tags", json_strings(it.tags)},
            {"sourceId", json_string(it.source_id)},
            {"created", iso8601_utc(it.created)}};
}

boost::json::object query_json(std::string_view store_kind, const std::vector<std::string>& tags,
                               std::size_t limit, const store::query_result& r,
                               boost::json::array items) {
    return {{"store", json_string(store_kind)},
            {"tags", json_strings(tags)},
            {"limit", limit},
            {"count", r.count},
            {"totalSize", r.total_size},
            {"items", std::move(items)}};
}

void write_query_json(std::ostream& out, std::string_view store_kind,
                      const std::vector<std::string>& tags, std::size_t limit,
                      const store::query_result& r) {
    boost::json::array items;
    for (const store::item& it : r.items) items.emplace_back(query_item_json(it));
    write_json_line(out, query_json(store_kind, tags, limit, r, std::move(items)));
}

std::string unmatched_tags_note(store::mime_store& s, const std::vector<std::string>& tags,
                                std::size_t scan) {
    store::query_options all;
    all.limit = scan;
    auto r = s.query(all);
    if (!r) return {};
    const std::string kind = shown(s.kind());
    std::string note = fmt::format("no item carries every tag in {}; ", tag_list(tags));
    if (r->count == 0) return note + fmt::format("the {} store is empty", kind);

    std::set<std::string> present;
    for (const store::item& it : r->items) present.insert(it.tags.begin(), it.tags.end());
    std::string names;
    for (const std::string& t : present) {
        if (!names.empty()) names += ", ";
        names += "'" + shown(t) + "'";
    }
    if (present.empty()) names = "nothing";
    if (r->items.size() < r->count) {
        return note + fmt::format("the first {} of the {} store's {} items are tagged {}",
                                  r->items.size(), kind, r->count, names);
    }
    return note + fmt::format("the {} store's items are tagged {}", kind, names);
}

std::optional<query_run> run_query(const invocation& inv, std::ostream& err) {
    const auto& vm = inv.options;
    query_run run;
    if (vm.count("query.tags") != 0)
        run.query.tags = split_tags(vm["query.tags"].as<std::vector<std::string>>());
    run.query.limit = static_cast<std::size_t>(vm["query.limit"].as<count_value>().value);
    run.query.order_by = vm["query.order"].as<choice<order_names>>().value == "desc"
                             ? store::query_options::order::desc
                             : store::query_options::order::asc;
    run.json = vm["format"].as<choice<format_names>>().value == "json";

    std::string why;
    auto made = open_store(inv.store, logger_for(inv), why);
    if (!made) {
        err << "izypop3: " << inv.method << ": cannot open the " << shown(inv.store.modhandler)
            << " store: " << (why.empty() ? made.error().message() : why) << '\n';
        return std::nullopt;
    }
    run.store = std::move(*made);
    auto r = run.store->query(run.query);
    if (!r) {
        err << "izypop3: " << inv.method << ": query of the " << shown(run.store->kind())
            << " store failed: " << r.error().message() << '\n';
        return std::nullopt;
    }
    run.result = std::move(*r);
    return run;
}

int run_store_query(const invocation& inv, std::ostream& out, std::ostream& err) {
    auto run = run_query(inv, err);
    if (!run) return exit_code::failure;
    const auto& tags = run->query.tags;
    if (run->json) {
        write_query_json(out, run->store->kind(), tags, run->query.limit, run->result);
        return exit_code::ok;
    }
    write_query_text(out, run->store->kind(), tags, run->result);
    if (run->result.count == 0 && !tags.empty()) {
        if (std::string note = unmatched_tags_note(*run->store, tags); !note.empty())
            out << note << '\n';
    }
    return exit_code::ok;
}

}  // namespace izypop3::app
