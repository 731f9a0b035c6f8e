// SPDX-License-Identifier: MIT
// Items joined for a message: "a, b, c".
#pragma once

#include <string>
#include <vector>

namespace tend::model {

inline std::string commaList(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

}  // namespace tend::model
