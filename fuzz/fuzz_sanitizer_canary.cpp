// SPDX-License-Identifier: MIT
// Not a target to fuzz: the proof that the fuzz build and scripts/fuzz fail on a sanitizer
// report. An input starting with "UB!" overflows a signed int, which UndefinedBehaviorSanitizer
// reports; scripts/fuzz runs this on that input first and refuses to go on unless the run
// failed and left the input as a crash.
#include <climits>
#include <cstdint>
#include <cstring>

namespace {
volatile int sink;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size >= 3 && std::memcmp(data, "UB!", 3) == 0) {
        int big = INT_MAX - static_cast<int>(data[0] & 1);  // INT_MAX, as the compiler cannot know
        big += 1 + static_cast<int>(size);                  // signed overflow
        sink = big;
    }
    return 0;
}
