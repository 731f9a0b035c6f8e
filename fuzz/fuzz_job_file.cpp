// SPDX-License-Identifier: MIT
// libFuzzer target for the job-file language. Beyond "no crash, no sanitizer report", it checks
// the printer's promise: whatever loads, printed and parsed again, gives an equal definition.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "conf/job_loader.hpp"
#include "conf/job_printer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    const tend::grammar::SourceText source("fuzz.conf",
                                           std::string(reinterpret_cast<const char*>(data), size));
    const auto result = tend::conf::loadJob("fuzz", source, nullptr, registry);
    for (const auto& diagnostic : result.diagnostics) {
        (void)diagnostic.format();
    }
    if (!result.job) {
        return 0;
    }
    const std::string printed = tend::conf::printJobClass(*result.job);
    const auto again = tend::conf::loadJob(
        "fuzz", tend::grammar::SourceText("printed.conf", printed), nullptr, registry);
    if (printed.empty()) {
        return 0;  // an all-default definition prints as nothing, which does not load
    }
    if (!again.job || !(*again.job == *result.job)) {
        std::fprintf(stderr, "round trip failed; printed form:\n%s\n", printed.c_str());
        for (const auto& diagnostic : again.diagnostics) {
            std::fputs(diagnostic.format().c_str(), stderr);
        }
        std::abort();
    }
    return 0;
}
