// SPDX-License-Identifier: MIT
// The real daemon with the built env-manager in a private plugins.d, and tend's own
// environment of a test's choosing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/daemon_fixture.hpp"

namespace tend::test {

class EnvManager : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
        install();
    }

    // The built plugin, in a private plugins.d.
    void install() {
        installPlugin(std::filesystem::path(TEND_PLUGINS_DIR) / "env-manager.so", plugins_,
                      "env-manager");
    }

    // `env` runs first: `-u NAME`, `-i` and NAME=VALUE change what tend inherits. Its
    // environment.d is always the test's own.
    ::testing::AssertionResult startWithPlugin(std::vector<std::string> env = {}) {
        std::vector<std::string> wrapper{"/usr/bin/env"};
        wrapper.insert(wrapper.end(), env.begin(), env.end());
        wrapper.push_back(configHome());
        wrapper.insert(wrapper.end(),
                       {"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins_.string(), "sh"});
        return startTend(wrapper);
    }

    // A file of environment.d below XDG_CONFIG_HOME=<root>/config, written whole and renamed
    // into place, as an editor saves.
    void writeEnvFile(const std::string& name, const std::string& text) {
        const auto dir = envDir();
        std::filesystem::create_directories(dir);
        std::ofstream(dir / (".tmp-" + name), std::ios::binary) << text;
        std::filesystem::rename(dir / (".tmp-" + name), dir / name);
    }
    std::filesystem::path envDir() const { return root_ / "config" / "tend" / "environment.d"; }
    std::string configHome() const { return "XDG_CONFIG_HOME=" + (root_ / "config").string(); }

    // The global table through list-env --json (a value may hold what the text form cannot).
    std::vector<std::string> globalEnv() {
        const auto listed = nlohmann::json::parse(ctl("--json", "list-env").out, nullptr, false);
        return listed.is_object() ? listed.value("env", std::vector<std::string>())
                                  : std::vector<std::string>();
    }

    const std::string tendctl_ = TENDCTL_BIN;
    std::filesystem::path plugins_;
};

}  // namespace tend::test
