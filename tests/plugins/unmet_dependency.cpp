// SPDX-License-Identifier: MIT
// Requires a plugin nobody has: tend must skip it, saying which.
#include <tend/plugin/plugin.hpp>

namespace {

std::unique_ptr<tend::plugin::Plugin> make(tend::plugin::PluginHost&) {
    return std::make_unique<tend::plugin::Plugin>();
}

}  // namespace

TEND_PLUGIN("unmet_dependency", "1.0", "no-such-plugin", "", "", make)
