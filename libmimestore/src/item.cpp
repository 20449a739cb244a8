#include <izypop3/store/item.hpp>

#include <algorithm>
#include <array>

namespace izypop3::store {
namespace {

constexpr std::array<std::string_view, 6> status_tag_list{
    tag::unread, tag::archive, tag::staged, tag::dup, tag::pop3failed, tag::conversionerror};

}  // namespace

std::span<const std::string_view> status_tags() noexcept { return status_tag_list; }

bool is_status_tag(std::string_view t) noexcept {
    return std::find(status_tag_list.begin(), status_tag_list.end(), t) !=
           status_tag_list.end();
}

std::vector<std::string> tags_after_mark(std::vector<std::string> tags, std::string_view t) {
    if (is_status_tag(t)) {
        std::erase_if(tags, [](const std::string& x) { return is_status_tag(x); });
        tags.emplace_back(t);
    } else if (std::find(tags.begin(), tags.end(), t) == tags.end()) {
        tags.emplace_back(t);
    }
    return tags;
}

std::vector<std::string> tags_after_unmark(std::vector<std::string> tags, std::string_view t) {
    if (std::erase(tags, t) == 0 || !is_status_tag(t)) return tags;
    if (std::none_of(tags.begin(), tags.end(), [](const std::string& x) { return is_status_tag(x); }))
        tags.emplace_back(tag::unread);
    return tags;
}

bool has_tag(const item& it, std::string_view t) noexcept {
    return std::find(it.tags.begin(), it.tags.end(), t) != it.tags.end();
}

bool has_all_tags(const item& it, std::span<const std::string> wanted) noexcept {
    return std::all_of(wanted.begin(), wanted.end(),
                       [&](const std::string& t) { return has_tag(it, t); });
}

bool has_any_tag(const item& it, std::span<const std::string> unwanted) noexcept {
    return std::any_of(unwanted.begin(), unwanted.end(),
                       [&](const std::string& t) { return has_tag(it, t); });
}

}  // namespace izypop3::store
