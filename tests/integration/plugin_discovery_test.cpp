// SPDX-License-Identifier: MIT
// How tend finds plugins and what it knows of their events, as a new user meets it: a plugins.d
// made after tend started, a reload that looks again, and conditions on events that only a
// plugin that is not loaded would emit, in check-config and explain.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/daemon_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kNotLoaded =
    "event 'file' comes from plugin file-bridge, which is not loaded";

class PluginDiscovery : public TendDaemonTest {
  protected:
    // tend with its default plugin directories, the user's under a private XDG_CONFIG_HOME.
    // `options` go after tend's own arguments.
    ::testing::AssertionResult startWithDefaultDirs(const std::string& options = "") {
        return startTend({"/usr/bin/env", "XDG_CONFIG_HOME=" + configHome().string(), "/bin/sh",
                          "-c", "exec \"$@\" " + options, "sh"});
    }

    fs::path configHome() const { return path("config"); }
    fs::path userPluginsDir() const { return configHome() / "tend" / "plugins.d"; }

    static void installTestPlugin(const std::string& name, const fs::path& dir) {
        installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / (name + ".so"), dir, name);
    }
    static void installStandardPlugin(const std::string& name, const fs::path& dir) {
        installPlugin(fs::path(TEND_PLUGINS_DIR) / (name + ".so"), dir, name);
    }

    bool pluginRuns(const std::string& line) {
        return ctl("plugins").out.find(line) != std::string::npos;
    }
};

TEST_F(PluginDiscovery, APluginsDirMadeAfterTendStartedIsWatchedAndItsPluginsLoad) {
    ASSERT_TRUE(startWithDefaultDirs());
    // tend says what it watches, and from where, while the directory does not exist.
    EXPECT_THAT(tendLog(), HasSubstr("plugin directory " + userPluginsDir().string() +
                                     " does not exist yet; watching " +
                                     path("config").parent_path().string() + " for it"));
    EXPECT_EQ(ctl("plugins").out, "");

    // docs/plugins.md's steps on a fresh account: make the directory, then install the plugin.
    fs::create_directories(userPluginsDir());
    fs::permissions(configHome(), fs::perms(0755));
    fs::permissions(configHome() / "tend", fs::perms(0755));
    fs::permissions(userPluginsDir(), fs::perms(0755));
    installTestPlugin("echo", userPluginsDir());
    ASSERT_TRUE(waitFor([&] { return pluginRuns("echo 1.2.3 running"); }, 10s))
        << ctl("plugins").out << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("watching plugin directory " + userPluginsDir().string()));
    const ProcessResult echoed = ctl("echo", "hello");
    EXPECT_EQ(echoed.exit_code, 0) << echoed.err;
    EXPECT_EQ(echoed.out, "hello\n");

    // Removed and made again: still watched.
    fs::remove_all(configHome() / "tend");
    ASSERT_TRUE(waitFor([&] { return !pluginRuns("echo 1.2.3 running"); }, 10s)) << tendLog();
    fs::create_directories(userPluginsDir());
    fs::permissions(configHome() / "tend", fs::perms(0755));
    fs::permissions(userPluginsDir(), fs::perms(0755));
    installTestPlugin("echo", userPluginsDir());
    EXPECT_TRUE(waitFor([&] { return pluginRuns("echo 1.2.3 running"); }, 10s)) << tendLog();
}

TEST_F(PluginDiscovery, ReloadConfigurationLooksAtThePluginDirectoriesAgain) {
    // Without inotify (--watch off), a reload is how a new plugin comes in.
    ASSERT_TRUE(startWithDefaultDirs("--watch off"));
    fs::create_directories(userPluginsDir());
    fs::permissions(configHome(), fs::perms(0755));
    fs::permissions(configHome() / "tend", fs::perms(0755));
    fs::permissions(userPluginsDir(), fs::perms(0755));
    installTestPlugin("echo", userPluginsDir());
    EXPECT_EQ(ctl("echo", "x").exit_code, 2) << "not loaded before the reload";
    const ProcessResult reload = ctl("reload-configuration");
    ASSERT_EQ(reload.exit_code, 0) << reload.err;
    EXPECT_THAT(ctl("plugins").out, HasSubstr("echo 1.2.3 running")) << tendLog();
    EXPECT_EQ(ctl("echo", "x").out, "x\n");
}

TEST_F(PluginDiscovery, AConditionOnAnEventOfAPluginThatIsNotLoadedIsAFinding) {
    writeJob("mailwatch",
             "start on file FILE=/tmp/tend-no-such-mail/* EVENT=create\n"
             "exec sleep 1000\n");
    const fs::path plugins = makePluginsDir();
    installTestPlugin("echo", plugins);
    ASSERT_TRUE(
        startTend({"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins.string(), "sh"}));

    const ProcessResult check = ctl("check-config");
    EXPECT_EQ(check.exit_code, 1) << check.err;
    EXPECT_THAT(check.err,
                HasSubstr("mailwatch.conf:1:10: error: start on: " + std::string(kNotLoaded)));
    const json report = json::parse(ctl("--json", "check-config").out, nullptr, false);
    EXPECT_THAT(report.dump(), HasSubstr("\"plugin-not-loaded\"")) << report.dump();

    const ProcessResult explained = ctl("explain", "mailwatch");
    EXPECT_THAT(explained.out, HasSubstr("still waiting for: file FILE=/tmp/tend-no-such-mail/* "
                                         "EVENT=create; " +
                                         std::string(kNotLoaded)));
    const json explain_json =
        json::parse(ctl("--json", "explain", "mailwatch").out, nullptr, false);
    EXPECT_EQ(explain_json["start_on"]["plugins_not_loaded"],
              json::parse(R"([{"event":"file","plugin":"file-bridge"}])"))
        << explain_json.dump();

    // Loaded, the plugin declares what it emits, and the finding goes.
    installStandardPlugin("file-bridge", plugins);
    ASSERT_TRUE(waitFor([&] { return pluginRuns("file-bridge 1.0 running"); }, 10s)) << tendLog();
    const json listed = json::parse(ctl("--json", "plugins").out, nullptr, false);
    bool declared = false;
    for (const auto& plugin : listed.value("plugins", json::array())) {
        declared = declared || (plugin.value("name", "") == "file-bridge" &&
                                plugin.value("emits", json::array()) == json::array({"file"}));
    }
    EXPECT_TRUE(declared) << listed.dump();
    const ProcessResult clean = ctl("check-config");
    EXPECT_EQ(clean.exit_code, 0) << clean.err;
    EXPECT_THAT(clean.err, Not(HasSubstr("file-bridge")));
    EXPECT_THAT(ctl("explain", "mailwatch").out, Not(HasSubstr("not loaded")));
}

TEST_F(PluginDiscovery, OfflineCheckTakesTheInstalledPluginsAsLoaded) {
    writeJob("mailwatch", "start on file FILE=/tmp/x EVENT=create\nexec true\n");
    const auto offline = [&] {
        return runProcess({"/usr/bin/env", "XDG_CONFIG_HOME=" + configHome().string(), TENDCTL_BIN,
                           "check-config", "--offline", path("jobs").string()});
    };
    const ProcessResult without = offline();
    EXPECT_EQ(without.exit_code, 1) << without.err;
    EXPECT_THAT(without.err, HasSubstr(kNotLoaded));

    fs::create_directories(userPluginsDir());
    installStandardPlugin("file-bridge", userPluginsDir());
    const ProcessResult with = offline();
    EXPECT_EQ(with.exit_code, 0) << with.err;
    EXPECT_THAT(with.err, Not(HasSubstr("file-bridge")));
}

TEST_F(PluginDiscovery, ProvidedJobsAreNotFindings) {
    writeJob("imapfilter", "start on started dbus\nrespawn\nexec sleep 1000\n");
    const auto check = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{"/usr/bin/env", "XDG_CONFIG_HOME=" + configHome().string(),
                                      TENDCTL_BIN, "check-config", "--offline"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(path("jobs").string());
        return runProcess(argv);
    };
    const ProcessResult plain = check({});
    EXPECT_EQ(plain.exit_code, 1);
    EXPECT_THAT(plain.err, HasSubstr("start on: unknown job dbus"));
    for (const auto& given : {std::vector<std::string>{"--provided-jobs", "dbus"},
                              std::vector<std::string>{"-j", "dbus,ssh-agent"},
                              std::vector<std::string>{"--provided-jobs=db*"}}) {
        const ProcessResult provided = check(given);
        EXPECT_EQ(provided.exit_code, 0) << given.front() << ": " << provided.err;
        EXPECT_THAT(provided.err, Not(HasSubstr("unknown job")));
    }
    // Through the running tend too.
    ASSERT_TRUE(startTend());
    EXPECT_EQ(ctl("check-config").exit_code, 1);
    EXPECT_EQ(ctl("check-config", "-j", "dbus").exit_code, 0);
}

}  // namespace
}  // namespace tend::test
