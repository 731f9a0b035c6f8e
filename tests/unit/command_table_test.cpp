// SPDX-License-Identifier: MIT
// The command table is the one list of tend's commands: the server answers exactly its names,
// tendctl's usage text shows every one, and both completion scripts offer every one with its
// options. A command added in one place and not the others fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "control/command_handlers.hpp"
#include "control/command_table.hpp"

namespace tend::control {
namespace {

using ::testing::HasSubstr;

std::set<std::string> tableNames() {
    std::set<std::string> names;
    for (const CommandSpec& command : commandTable()) {
        names.emplace(command.name);
    }
    return names;
}

std::string readSource(const std::string& relative) {
    std::ifstream in(std::string(TEND_SOURCE_DIR) + "/" + relative);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(CommandTable, TheServerAnswersEveryCommandInTheTableAndNoOther) {
    std::set<std::string> served;
    for (const auto& [name, handler] : commandHandlers()) {
        served.emplace(name);
    }
    EXPECT_EQ(served, tableNames());
}

TEST(CommandTable, NamesAreUniqueAndFoundByName) {
    EXPECT_EQ(tableNames().size(), commandTable().size());
    for (const CommandSpec& command : commandTable()) {
        ASSERT_NE(findCommand(command.name), nullptr) << command.name;
        EXPECT_EQ(findCommand(command.name)->name, command.name);
    }
    EXPECT_EQ(findCommand("list-env"), nullptr);  // a plugin's: not the table's
}

TEST(CommandTable, TheUsageTextShowsEveryCommandWithItsOptions) {
    const std::string usage(usageText());
    for (const CommandSpec& command : commandTable()) {
        const std::string lead = "  " + std::string(command.name);
        EXPECT_TRUE(std::string(command.usage).starts_with(lead + " ") ||
                    std::string(command.usage).starts_with(lead + "\n"))
            << command.usage;
        EXPECT_THAT(usage, HasSubstr(std::string(command.usage)));
        for (const OptionSpec& option : command.options) {
            const std::string spelled(option.short_name.empty() ? option.long_name
                                                                : option.short_name);
            // -n/--no-wait is explained once, at the end.
            EXPECT_TRUE(command.usage.find(spelled) != std::string_view::npos ||
                        option.long_name == "--no-wait")
                << command.name << " " << spelled;
        }
    }
}

TEST(CommandTable, BashCompletionOffersEveryCommandAndOption) {
    const std::string script = readSource("scripts/completion/tendctl.bash");
    std::smatch found;
    ASSERT_TRUE(std::regex_search(script, found, std::regex("_tendctl_commands=\"([^\"]*)\"")));
    std::set<std::string> offered;
    std::istringstream words(found[1].str());
    for (std::string word; words >> word;) {
        offered.insert(word);
    }
    EXPECT_EQ(offered, tableNames());
    for (const CommandSpec& command : commandTable()) {
        for (const OptionSpec& option : command.options) {
            EXPECT_THAT(script, HasSubstr(std::string(option.long_name))) << command.name;
        }
    }
}

TEST(CommandTable, ZshCompletionOffersEveryCommandAndOption) {
    const std::string script = readSource("scripts/completion/_tendctl");
    const auto begin = script.find("commands=(");
    ASSERT_NE(begin, std::string::npos);
    const auto end = script.find("\n    )", begin);
    ASSERT_NE(end, std::string::npos);
    const std::string list = script.substr(begin, end - begin);
    std::set<std::string> offered;
    const std::regex entry("['\"]([a-z-]+):");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), entry);
         it != std::sregex_iterator(); ++it) {
        offered.insert((*it)[1].str());
    }
    EXPECT_EQ(offered, tableNames());
    for (const CommandSpec& command : commandTable()) {
        for (const OptionSpec& option : command.options) {
            EXPECT_THAT(script, HasSubstr(std::string(option.long_name))) << command.name;
        }
    }
}

}  // namespace
}  // namespace tend::control
