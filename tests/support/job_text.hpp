// SPDX-License-Identifier: MIT
// Helpers that load job text in memory, for tests that need no files.
#pragma once

#include <string>

#include "conf/job_loader.hpp"
#include "conf/stanza_registry.hpp"

namespace tend::test {

inline const conf::StanzaRegistry& coreRegistry() {
    static const conf::StanzaRegistry registry = conf::StanzaRegistry::withCoreStanzas();
    return registry;
}

inline conf::LoadResult loadText(const std::string& text, const std::string& path = "job.conf") {
    const grammar::SourceText source(path, text);
    return conf::loadJob("job", source, nullptr, coreRegistry());
}

// Every diagnostic, formatted, one after the other: what a user would read.
inline std::string formatted(const conf::LoadResult& result) {
    std::string out;
    for (const auto& d : result.diagnostics) {
        out += d.format();
    }
    return out;
}

}  // namespace tend::test
