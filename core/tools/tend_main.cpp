// SPDX-License-Identifier: MIT
// tend: the per-user session manager. This build provides the offline checker; the supervisor
// itself is refused with a clear message until it lands.
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

#include "conf/check.hpp"
#include "conf/job_printer.hpp"

namespace {

constexpr const char* kUsage =
    "usage: tend --check [--json | --print] PATH...\n"
    "       tend --version\n"
    "\n"
    "  --check PATH...  check job files (or directories of them) without running anything;\n"
    "                   exit 0 when clean, 1 when any file has an error\n"
    "  --json           print the diagnostics as JSON on stdout\n"
    "  --print          print each job that loads in canonical form on stdout\n";

}  // namespace

int main(int argc, char** argv) {
    bool check = false;
    bool json = false;
    bool print = false;
    std::vector<std::filesystem::path> paths;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--check") {
            check = true;
        } else if (arg == "--json") {
            json = true;
        } else if (arg == "--print") {
            print = true;
        } else if (arg == "--version") {
            std::printf("tend %s\n", TEND_VERSION);
            return 0;
        } else if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg.starts_with("-")) {
            std::fprintf(stderr, "tend: unknown option '%s'\n%s", argv[i], kUsage);
            return 2;
        } else {
            paths.emplace_back(arg);
        }
    }
    if (!check) {
        std::fputs(
            "tend: running as a session supervisor is not available in this build yet;\n"
            "      'tend --check PATH...' checks job files\n",
            stderr);
        return 2;
    }
    if (paths.empty()) {
        std::fprintf(stderr, "tend: --check needs at least one file or directory\n%s", kUsage);
        return 2;
    }
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    const auto report = tend::conf::checkPaths(paths, registry);
    if (print) {
        for (const auto& file : report.files) {
            if (file.job_class) {
                std::printf("# %s (%s)\n%s\n", file.job.c_str(), file.path.c_str(),
                            tend::conf::printJobClass(*file.job_class).c_str());
            }
        }
    }
    if (json) {
        std::fputs(report.json().c_str(), stdout);
    } else {
        std::fputs(report.text().c_str(), stderr);
    }
    return report.errorCount() == 0 ? 0 : 1;
}
