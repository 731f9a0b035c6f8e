// SPDX-License-Identifier: MIT
// A right descriptor and no factory: tend loads it, finds nothing to call, and says so.
#include <tend/plugin/plugin.hpp>

extern "C" __attribute__((section(".tend_plugin"), used, visibility("default")))
const char tend_plugin_descriptor_v1[] =
    "tend-plugin\nname=no_factory\nversion=1.0\napi=" TEND_PLUGIN_STRINGIFY(
        TEND_PLUGIN_API_VERSION) "\nrequires=\noptional=\nprovides=\n";
