// SPDX-License-Identifier: MIT
// environment.d lines, their expansion, the layer they make over the global table, and the
// import setting's patterns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "environment_files.hpp"
#include "file_layer.hpp"
#include "session_import.hpp"

namespace tend::env_manager {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Lookup from(const std::map<std::string, std::string, std::less<>>& values) {
    return [values](std::string_view name) -> std::optional<std::string> {
        const auto it = values.find(name);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

std::vector<std::string> assignments(const std::vector<FileAssignment>& out) {
    std::vector<std::string> text;
    for (const auto& a : out) {
        text.push_back(a.name + "=" + a.value + " @" + a.where);
    }
    return text;
}

TEST(EnvironmentFiles, ExpandsReferencesAgainstEarlierLinesThenTheTable) {
    std::vector<FileAssignment> out;
    std::vector<std::string> errors;
    parseEnvironmentFile(
        "# comment\n\n  A = one  \nB=$A-${HOME}-${NOPE}-${NOPE:-d}-${A:+alt}-\\$A-$-$1\n"
        "C='quoted $A'\nD=\"x\"y\n",
        "f.conf", from({{"HOME", "/h"}, {"A", "table"}}), out, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_THAT(assignments(out),
                ElementsAre("A=one @f.conf:3", "B=one-/h--d-alt-$A-$-$1 @f.conf:4",
                            "C=quoted one @f.conf:5", "D=\"x\"y @f.conf:6"));
}

TEST(EnvironmentFiles, ABadLineIsReportedAtItsColumnAndSkipped) {
    std::vector<FileAssignment> out;
    std::vector<std::string> errors;
    parseEnvironmentFile("OK=1\nno equals\n  9X=1\nV=ab${OPEN\nW=${A:?x}\nLAST=2", "e.conf",
                         from({}), out, errors);
    EXPECT_THAT(assignments(out), ElementsAre("OK=1 @e.conf:1", "LAST=2 @e.conf:6"));
    EXPECT_THAT(errors, ElementsAre("e.conf:2:1: expected KEY=VALUE",
                                    "e.conf:3:3: invalid variable name '9X': use letters, digits "
                                    "and '_', not starting with a digit",
                                    "e.conf:4:5: unterminated '${'",
                                    "e.conf:5:3: unknown operator in '${A:?x}': use :- or :+"));
}

// Each line doubles PATH: 40 lines would ask for a terabyte. The line that passes what one
// environment variable can hold is refused, and so is every later one, whose PATH would be
// larger still; PATH keeps its last value that fits.
TEST(EnvironmentFiles, AValueThatExpandsPastWhatExecCanPassIsRefused) {
    std::string text;
    for (int i = 0; i < 40; ++i) {
        text += "PATH=$PATH${PATH}\n";
    }
    std::vector<FileAssignment> out;
    std::vector<std::string> errors;
    parseEnvironmentFile(text, "bomb.conf", from({{"PATH", "/usr/bin:/bin"}}), out, errors);
    ASSERT_FALSE(out.empty());
    EXPECT_LE(out.back().value.size(), 131072u);
    EXPECT_GT(out.back().value.size(), 131072u / 2);
    ASSERT_EQ(out.size() + errors.size(), 40u);
    EXPECT_THAT(errors.front(), HasSubstr("bomb.conf:" + std::to_string(out.size() + 1) + ":"));
    EXPECT_THAT(errors.front(), HasSubstr("the value expands to more than 131072 bytes, more "
                                          "than a job's environment can hold"));
}

// A table in memory, with origins, standing in for the host's.
class FakeTable final : public EnvironmentTable {
  public:
    std::map<std::string, Value> values;
    std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& [name, value] : values) {
            out.push_back(name);
        }
        return out;
    }
    std::optional<Value> get(const std::string& name) const override {
        const auto it = values.find(name);
        return it == values.end() ? std::nullopt : std::optional<Value>(it->second);
    }
    std::string set(const std::string& name, const Value& value) override {
        values[name] = value;
        return {};
    }
    std::string unset(const std::string& name) override {
        values.erase(name);
        return {};
    }
    std::string valueOf(const std::string& name) const {
        const auto it = values.find(name);
        return it == values.end() ? "(unset)" : it->second.value;
    }
};

std::vector<FileAssignment> parse(FakeTable& table, const FileLayer& layer,
                                  const std::string& text) {
    std::vector<FileAssignment> out;
    std::vector<std::string> errors;
    parseEnvironmentFile(
        text, "f.conf", [&](std::string_view name) { return layer.below(table, name); }, out,
        errors);
    return out;
}

TEST(FileLayer, ARemovedLineTakesBackWhatItOverrodeUnlessSetSince) {
    FakeTable table;
    table.values["DISPLAY"] = {":7", "session", ""};
    FileLayer layer;
    EXPECT_TRUE(layer.apply(table, parse(table, layer, "DISPLAY=:9\nNEW=x\nUSER=file\n")).empty());
    EXPECT_EQ(table.valueOf("DISPLAY"), ":9");
    EXPECT_EQ(table.values["NEW"].detail, "f.conf:2");
    table.values["USER"] = {"mine", "set-env", ""};

    // The user's value stands while its line stays as it was.
    layer.apply(table, parse(table, layer, "DISPLAY=:9\nNEW=x\nUSER=file\n"));
    EXPECT_EQ(table.valueOf("USER"), "mine");
    layer.apply(table, parse(table, layer, "OTHER=1\n"));
    EXPECT_EQ(table.valueOf("DISPLAY"), ":7");
    EXPECT_EQ(table.values["DISPLAY"].kind, "session");
    EXPECT_EQ(table.valueOf("NEW"), "(unset)");
    EXPECT_EQ(table.valueOf("USER"), "mine");
    // A changed line wins over the user's value.
    layer.apply(table, parse(table, layer, "OTHER=1\nUSER=file2\n"));
    EXPECT_EQ(table.valueOf("USER"), "file2");
}

TEST(FileLayer, APathThatNamesItselfDoesNotGrowAtEachReading) {
    FakeTable table;
    table.values["PATH"] = {"/usr/bin", "session", ""};
    FileLayer layer;
    for (int i = 0; i < 3; ++i) {
        layer.apply(table, parse(table, layer, "PATH=/home/u/bin:$PATH\n"));
    }
    EXPECT_EQ(table.valueOf("PATH"), "/home/u/bin:/usr/bin");
    layer.apply(table, parse(table, layer, ""));
    EXPECT_EQ(table.valueOf("PATH"), "/usr/bin");
}

TEST(SessionImport, TakesTheNamesThePatternsMatch) {
    char a[] = "GTK_THEME=Adwaita";
    char b[] = "QT_STYLE=x";
    char c[] = "OTHER=y";
    char d[] = "GTK=z";
    char* environment[] = {a, b, c, d, nullptr};
    EXPECT_THAT(importedEntries("GTK_*  QT_STYLE", environment),
                ElementsAre("GTK_THEME=Adwaita", "QT_STYLE=x"));
    EXPECT_TRUE(importedEntries("", environment).empty());
}

}  // namespace
}  // namespace tend::env_manager
