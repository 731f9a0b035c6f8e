// SPDX-License-Identifier: MIT
// When a log rotates and what is kept: by size and/or age, N old logs, gzip or not. Defaults,
// then plugins.d/logrotate.conf's settings, then a job's `log rotate ...` stanza, each over the
// one before.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tend::logrotate {

struct RotationPolicy {
    bool enabled = true;
    std::uint64_t size = 10ull << 20;  // rotate past this many bytes; 0: never by size
    std::chrono::seconds age{0};       // rotate a log older than this; 0: never by age
    int keep = 5;                      // rotated logs kept: name.log.1[.gz] (newest) ... .keep
    bool compress = true;
};

// "10M", "512k", "1G", "4096" (bytes). nullopt for anything else.
std::optional<std::uint64_t> parseSize(std::string_view text);
// "30s", "15m", "12h", "7d", "2w", "3600" (seconds). nullopt for anything else.
std::optional<std::chrono::seconds> parseAge(std::string_view text);

// A job's `log rotate` stanza's arguments: `[size N] [age D] [keep N] [compress|nocompress]`, or
// `off`. Returns the error text, or empty with `policy` updated.
std::string applyStanza(const std::vector<std::string>& args, RotationPolicy& policy);

// The plugin's settings (`setting size 10M` ...), read through `setting(key)` (empty: unset).
// Returns one error text per bad setting; good ones apply.
std::vector<std::string> applySettings(const std::function<std::string(std::string_view)>& setting,
                                       RotationPolicy& policy);

}  // namespace tend::logrotate
