// SPDX-License-Identifier: MIT
// A descriptor from a future API: tend must refuse it without running any of its code. The
// constructor below would write a marker file if it ever ran.
#include <tend/plugin/plugin.hpp>

#include <cstdio>
#include <cstdlib>

extern "C" __attribute__((section(".tend_plugin"), used, visibility("default")))
const char tend_plugin_descriptor_v1[] =
    "tend-plugin\nname=wrong_api\nversion=9.0\napi=999\nrequires=\noptional=\nprovides=\n";

__attribute__((constructor)) static void ranCode() {
    if (const char* marker = std::getenv("TEND_TEST_MARKER")) {
        if (FILE* f = std::fopen(marker, "w")) {
            std::fputs("wrong_api ran code\n", f);
            std::fclose(f);
        }
    }
}
