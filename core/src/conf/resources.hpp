// SPDX-License-Identifier: MIT
// Resource names of the `limit` stanza and their RLIMIT_* numbers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tend::conf {

std::optional<int> resourceByName(std::string_view name);
std::string_view resourceName(int resource);
std::string resourceNameList();  // "as, core, cpu, ..."

}  // namespace tend::conf
