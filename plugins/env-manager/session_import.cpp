// SPDX-License-Identifier: MIT
#include "session_import.hpp"

#include <fnmatch.h>

#include <sstream>

namespace tend::env_manager {

std::vector<std::string> importedEntries(std::string_view patterns, char* const* environment) {
    std::vector<std::string> wanted;
    std::istringstream words{std::string(patterns)};
    for (std::string word; words >> word;) {
        wanted.push_back(word);
    }
    std::vector<std::string> out;
    for (char* const* entry = environment; entry && *entry; ++entry) {
        const std::string_view text(*entry);
        const auto eq = text.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        const std::string name(text.substr(0, eq));
        for (const auto& pattern : wanted) {
            if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
                out.emplace_back(text);
                break;
            }
        }
    }
    return out;
}

}  // namespace tend::env_manager
