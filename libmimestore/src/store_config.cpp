#include <izypop3/store/errc.hpp>
#include <izypop3/store/store_config.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace izypop3::store {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

bool apply_key(store_config& cfg, std::string_view full_key, std::string value) {
    if (!full_key.starts_with(store_config::key_prefix)) return false;
    auto key = full_key.substr(store_config::key_prefix.size());
    if (key == "modhandler") {
        cfg.modhandler = std::move(value);
    } else {
        cfg.settings.insert_or_assign(std::string(key), std::move(value));
    }
    return true;
}

std::string setting_text(const store_config& cfg, std::string_view key,
                         std::string_view fallback) {
    auto it = cfg.settings.find(std::string(key));
    return it == cfg.settings.end() ? std::string(fallback) : it->second;
}

boost::system::result<std::uint64_t> setting_uint(const store_config& cfg, std::string_view key,
                                                  std::uint64_t fallback, std::uint64_t min,
                                                  std::uint64_t max, std::string& why) {
    auto it = cfg.settings.find(std::string(key));
    if (it == cfg.settings.end()) return fallback;
    const std::string& text = it->second;
    std::uint64_t value = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    // from_chars alone would accept "12abc" as 12; a setting must be all digits.
    auto [end, ec] = std::from_chars(first, last, value);
    bool digits_only = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (!digits_only || ec != std::errc() || end != last || value < min || value > max) {
        why = fmt::format("mimestore.{} must be a whole number from {} to {}, not '{}'", key,
                          min, max, text);
        return errc::bad_setting_value;
    }
    return value;
}

boost::system::result<bool> setting_bool(const store_config& cfg, std::string_view key,
                                         bool fallback, std::string& why) {
    auto it = cfg.settings.find(std::string(key));
    if (it == cfg.settings.end()) return fallback;
    auto v = lower(it->second);
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    why = fmt::format("mimestore.{} must be true or false, not '{}'", key, it->second);
    return errc::bad_setting_value;
}

}  // namespace izypop3::store
