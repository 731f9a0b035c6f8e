// SPDX-License-Identifier: MIT
// libFuzzer target for env-manager's environment.d files: beyond "no crash, no sanitizer
// report", every assignment it keeps has a valid name and says where it came from, and every
// problem names the file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "environment_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    // What the session has: one variable set, so that expansions meet both cases.
    const tend::env_manager::Lookup below =
        [](std::string_view name) -> std::optional<std::string> {
        if (name == "HOME") {
            return std::string("/home/fuzz");
        }
        return std::nullopt;
    };
    std::vector<tend::env_manager::FileAssignment> out;
    std::vector<std::string> errors;
    tend::env_manager::parseEnvironmentFile(text, "fuzz.conf", below, out, errors);
    for (const auto& assignment : out) {
        if (!tend::env_manager::validVariableName(assignment.name) ||
            !assignment.where.starts_with("fuzz.conf:")) {
            std::fprintf(stderr, "kept an assignment it should not: '%s' from '%s'\n",
                         assignment.name.c_str(), assignment.where.c_str());
            std::abort();
        }
    }
    for (const auto& error : errors) {
        if (!error.starts_with("fuzz.conf:")) {
            std::fprintf(stderr, "a problem without its place: %s\n", error.c_str());
            std::abort();
        }
    }
    return 0;
}
