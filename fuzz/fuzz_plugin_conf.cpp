// SPDX-License-Identifier: MIT
// libFuzzer target for plugins.d/<name>.conf (`enable`, `disable`, `setting KEY VALUE...`):
// beyond "no crash, no sanitizer report", every problem names the file and a position, and a
// conf that has no problems says the same when its settings are written out and read again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "plugin/plugin_conf.hpp"
#include "tend/grammar/quoting.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const tend::grammar::SourceText source("fuzz.conf",
                                           std::string(reinterpret_cast<const char*>(data), size));
    const auto conf = tend::plugin::parsePluginConf(source, "fuzz");
    for (const auto& problem : conf.problems) {
        if (!problem.starts_with("fuzz.conf:")) {
            std::fprintf(stderr, "a problem without its place: %s\n", problem.c_str());
            std::abort();
        }
    }
    if (!conf.problems.empty()) {
        return 0;
    }
    // Names and values as the parser gave them, quoted as the job printer quotes a word.
    const auto quoted = [](const std::string& text) { return tend::grammar::quoteValue(text); };
    std::string written = conf.enabled ? "enable\n" : "disable\n";
    for (const auto& [key, value] : conf.settings) {
        written += "setting " + quoted(key) + (value.empty() ? "" : " " + quoted(value)) + "\n";
    }
    const auto again =
        tend::plugin::parsePluginConf(tend::grammar::SourceText("written.conf", written), "fuzz");
    if (!again.problems.empty() || again.enabled != conf.enabled ||
        again.settings != conf.settings) {
        std::fprintf(stderr, "written out and read again, the conf differs:\n%s", written.c_str());
        for (const auto& problem : again.problems) {
            std::fprintf(stderr, "%s\n", problem.c_str());
        }
        std::abort();
    }
    return 0;
}
