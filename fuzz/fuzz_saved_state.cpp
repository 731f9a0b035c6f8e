// SPDX-License-Identifier: MIT
// libFuzzer target for the state a re-exec hands to the next tend: beyond "no crash, no
// sanitizer report", a state it accepts has only jobs with names, process ids that are not
// negative and descriptors that are not below -1, and survives encode -> decode unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/saved_state_json.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto state = tend::daemon::decodeSavedState(text, error);
    if (!state) {
        if (error.empty()) {
            fail("a refusal without its reason", text.substr(0, 200));
        }
        return 0;
    }
    for (const auto& job : state->jobs) {
        if (job.name.empty() || job.pid < 0 || job.pgid < 0 || job.output_fd < -1 ||
            job.error_fd < -1 || job.router_out_fd < -1 || job.router_err_fd < -1) {
            fail("accepted a job it should not", job.name);
        }
    }
    const std::string encoded = tend::daemon::encodeSavedState(*state);
    const auto again = tend::daemon::decodeSavedState(encoded, error);
    if (!again) {
        fail("its own encoding is refused", error);
    }
    if (tend::daemon::encodeSavedState(*again) != encoded) {
        fail("the state changes through encode -> decode", encoded.substr(0, 200));
    }
    return 0;
}
