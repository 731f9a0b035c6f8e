// SPDX-License-Identifier: MIT
#include "rotation_policy.hpp"

#include <charconv>
#include <limits>

namespace tend::logrotate {

namespace {

// The number at the front of `text` and the unit after it (empty when none).
std::optional<std::pair<std::uint64_t, std::string_view>> numberAndUnit(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) {
        return std::nullopt;
    }
    return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t factor) {
    if (factor != 0 && value > std::numeric_limits<std::uint64_t>::max() / factor) {
        return std::nullopt;
    }
    return value * factor;
}

std::optional<int> parseKeep(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 1000) {
        return std::nullopt;
    }
    return value;
}

std::optional<bool> parseYesNo(std::string_view text) {
    if (text == "yes" || text == "on" || text == "true") {
        return true;
    }
    if (text == "no" || text == "off" || text == "false") {
        return false;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parseSize(std::string_view text) {
    const auto parsed = numberAndUnit(text);
    if (!parsed) {
        return std::nullopt;
    }
    const auto [value, unit] = *parsed;
    if (unit.empty() || unit == "b" || unit == "B") {
        return value;
    }
    if (unit == "k" || unit == "K") {
        return scaled(value, 1ull << 10);
    }
    if (unit == "m" || unit == "M") {
        return scaled(value, 1ull << 20);
    }
    if (unit == "g" || unit == "G") {
        return scaled(value, 1ull << 30);
    }
    return std::nullopt;
}

std::optional<std::chrono::seconds> parseAge(std::string_view text) {
    const auto parsed = numberAndUnit(text);
    if (!parsed) {
        return std::nullopt;
    }
    const auto [value, unit] = *parsed;
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "s") {
        factor = 1;
    } else if (unit == "m") {
        factor = 60;
    } else if (unit == "h") {
        factor = 3600;
    } else if (unit == "d") {
        factor = 86400;
    } else if (unit == "w") {
        factor = 7 * 86400;
    } else {
        return std::nullopt;
    }
    const auto seconds = scaled(value, factor);
    if (!seconds || *seconds > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
        return std::nullopt;
    }
    return std::chrono::seconds(static_cast<std::int64_t>(*seconds));
}

std::string applyStanza(const std::vector<std::string>& args, RotationPolicy& policy) {
    if (args.size() == 1 && args[0] == "off") {
        policy.enabled = false;
        return {};
    }
    RotationPolicy next = policy;
    next.enabled = true;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word == "compress" || word == "nocompress") {
            next.compress = word == "compress";
            continue;
        }
        if (word != "size" && word != "age" && word != "keep") {
            return "unknown option '" + word + "' (size, age, keep, compress, nocompress, off)";
        }
        if (i + 1 >= args.size()) {
            return "'" + word + "' needs a value";
        }
        const std::string& value = args[++i];
        if (word == "size") {
            const auto size = value == "off" ? std::optional<std::uint64_t>(0) : parseSize(value);
            if (!size) {
                return "invalid size '" + value + "' (for example 512k, 10M, 1G, or off)";
            }
            next.size = *size;
        } else if (word == "age") {
            const auto age =
                value == "off" ? std::optional(std::chrono::seconds(0)) : parseAge(value);
            if (!age) {
                return "invalid age '" + value + "' (for example 12h, 7d, 2w, or off)";
            }
            next.age = *age;
        } else {
            const auto keep = parseKeep(value);
            if (!keep) {
                return "invalid keep '" + value + "' (a number from 0 to 1000)";
            }
            next.keep = *keep;
        }
    }
    policy = next;
    return {};
}

std::vector<std::string> applySettings(const std::function<std::string(std::string_view)>& setting,
                                       RotationPolicy& policy) {
    std::vector<std::string> errors;
    if (const std::string size = setting("size"); !size.empty()) {
        if (const auto parsed = size == "off" ? std::optional<std::uint64_t>(0) : parseSize(size)) {
            policy.size = *parsed;
        } else {
            errors.push_back("setting size: invalid size '" + size + "' (for example 10M)");
        }
    }
    if (const std::string age = setting("age"); !age.empty()) {
        if (const auto parsed =
                age == "off" ? std::optional(std::chrono::seconds(0)) : parseAge(age)) {
            policy.age = *parsed;
        } else {
            errors.push_back("setting age: invalid age '" + age + "' (for example 7d)");
        }
    }
    if (const std::string keep = setting("keep"); !keep.empty()) {
        if (const auto parsed = parseKeep(keep)) {
            policy.keep = *parsed;
        } else {
            errors.push_back("setting keep: invalid number '" + keep + "' (0 to 1000)");
        }
    }
    if (const std::string compress = setting("compress"); !compress.empty()) {
        if (const auto parsed = parseYesNo(compress)) {
            policy.compress = *parsed;
        } else {
            errors.push_back("setting compress: expected yes or no, not '" + compress + "'");
        }
    }
    return errors;
}

}  // namespace tend::logrotate
