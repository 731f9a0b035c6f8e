// SPDX-License-Identifier: MIT
// A real tend with a private plugins.d, into which tests install the built test plugins
// (tests/plugins/), and what `tendctl plugins` says of each.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"

namespace tend::test {

class TendPlugins : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
    }

    // Copies a built test plugin into the private plugins.d, the way a user installs one:
    // to a temporary name, then renamed into place.
    void install(const std::string& name, const std::string& as = {}) {
        installPlugin(std::filesystem::path(TEND_TEST_PLUGINS_DIR) / (name + ".so"), plugins_,
                      as.empty() ? name : as);
    }

    ::testing::AssertionResult startWithPlugins() {
        return startTend({"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins_.string(), "sh"});
    }

    nlohmann::json pluginList() {
        const ProcessResult result = ctl("--json", "plugins");
        nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, false);
        return parsed.is_discarded() ? nlohmann::json::object() : parsed;
    }

    // The state of one plugin in `tendctl plugins --json`, and its reason.
    std::pair<std::string, std::string> stateOf(const std::string& name) {
        for (const auto& plugin : pluginList().value("plugins", nlohmann::json::array())) {
            if (plugin.value("name", "") == name) {
                return {plugin.value("state", ""), plugin.value("reason", "")};
            }
        }
        return {"absent", ""};
    }

    std::filesystem::path plugins_;
};

}  // namespace tend::test
