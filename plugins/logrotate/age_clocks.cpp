// SPDX-License-Identifier: MIT
#include "age_clocks.hpp"

#include <charconv>
#include <cstdint>

namespace tend::logrotate {

std::string encodeAgeClocks(const AgeClocks& clocks) {
    std::string out;
    for (const auto& [path, since] : clocks) {
        if (path.empty() || path.find('\n') != std::string::npos) {
            continue;  // no line could carry it
        }
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(since.time_since_epoch()).count();
        out += std::to_string(seconds) + " " + path + "\n";
    }
    return out;
}

AgeClocks decodeAgeClocks(std::string_view text) {
    AgeClocks clocks;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        std::int64_t seconds = 0;
        const auto [rest, error] = std::from_chars(line.data(), line.data() + line.size(), seconds);
        if (error != std::errc() || seconds < 0 || rest == line.data() + line.size() ||
            *rest != ' ' || rest + 1 == line.data() + line.size()) {
            continue;
        }
        clocks[std::string(rest + 1, line.data() + line.size())] =
            std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
    }
    return clocks;
}

}  // namespace tend::logrotate
