// SPDX-License-Identifier: MIT
// Reading jobs' `file` matches: what is watched, what the events carry, and what is refused.
#include <gtest/gtest.h>

#include <map>

#include "watch_spec.hpp"

namespace tend::file_bridge {
namespace {

using Target = WatchSpec::Target;

// $NAME, ${NAME} and a leading ~, against a fixed table; nullopt for an unset variable.
std::optional<std::string> expand(std::string_view text) {
    static const std::map<std::string, std::string> vars{{"HOME", "/home/u"}, {"BOX", "Mail"}};
    std::string out;
    std::size_t at = 0;
    if (text.starts_with("~")) {
        out = vars.at("HOME");
        at = 1;
    }
    while (at < text.size()) {
        if (text[at] != '$') {
            out += text[at++];
            continue;
        }
        const bool braced = at + 1 < text.size() && text[at + 1] == '{';
        std::size_t start = at + (braced ? 2 : 1);
        std::size_t end = start;
        while (end < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
            ++end;
        }
        const auto found = vars.find(std::string(text.substr(start, end - start)));
        if (found == vars.end()) {
            return std::nullopt;
        }
        out += found->second;
        at = end + (braced ? 1 : 0);
    }
    return out;
}

plugin::EventMatch match(std::vector<plugin::EventMatch::Argument> args) {
    plugin::EventMatch out;
    out.event = "file";
    out.args = std::move(args);
    return out;
}

WatchSpec parsed(std::vector<plugin::EventMatch::Argument> args) {
    ParsedSpec result = parseWatchSpec(match(std::move(args)), expand);
    EXPECT_TRUE(result.spec) << result.error;
    return result.spec.value_or(WatchSpec{});
}

std::string refused(std::vector<plugin::EventMatch::Argument> args) {
    ParsedSpec result = parseWatchSpec(match(std::move(args)), expand);
    EXPECT_FALSE(result.spec) << "watched " << (result.spec ? result.spec->path : "");
    return result.error;
}

TEST(WatchSpec, AFileWithOneKindOfEvent) {
    const WatchSpec spec = parsed({{"FILE", "/run/app.pid"}, {"EVENT", "create"}});
    EXPECT_EQ(spec.target, Target::File);
    EXPECT_EQ(spec.path, "/run/app.pid");
    EXPECT_EQ(spec.file, "/run/app.pid");
    EXPECT_EQ(spec.kinds, unsigned{Create});
}

TEST(WatchSpec, WithoutEventEveryKindIsWatched) {
    EXPECT_EQ(parsed({{"FILE", "/run/app.pid"}}).kinds, kAllKinds);
}

TEST(WatchSpec, ATrailingSlashWatchesADirectory) {
    const WatchSpec spec = parsed({{"FILE", "/var/log/"}});
    EXPECT_EQ(spec.target, Target::Directory);
    EXPECT_EQ(spec.path, "/var/log");
    EXPECT_EQ(spec.file, "/var/log/");
}

TEST(WatchSpec, AGlobInTheLastComponentWatchesTheDirectorysMatchingEntries) {
    const WatchSpec spec = parsed({{"FILE", "/var/crash/*.crash"}, {"EVENT", "create"}});
    EXPECT_EQ(spec.target, Target::Glob);
    EXPECT_EQ(spec.path, "/var/crash");
    EXPECT_EQ(spec.glob, "*.crash");
    EXPECT_EQ(spec.file, "/var/crash/*.crash");
}

TEST(WatchSpec, TildeIsExpandedForWatchingAndKeptInFile) {
    const WatchSpec spec = parsed({{"FILE", "~/Mail/new/*"}, {"EVENT", "create"}});
    EXPECT_EQ(spec.file, "~/Mail/new/*");
    EXPECT_EQ(spec.path, "/home/u/Mail/new");
    EXPECT_EQ(spec.glob, "*");
    EXPECT_EQ(parsed({{"FILE", "~/$BOX/new/"}}).file, "~/Mail/new/");
}

// The job's condition expands $VARs before it compares, so FILE must carry them expanded.
TEST(WatchSpec, VariablesAreExpandedAsTheConditionExpandsThem) {
    const WatchSpec spec = parsed({{"FILE", "$HOME/${BOX}/inbox"}});
    EXPECT_EQ(spec.file, "/home/u/Mail/inbox");
    EXPECT_EQ(spec.path, "/home/u/Mail/inbox");
}

TEST(WatchSpec, ARelativePathIsBelowHome) {
    const WatchSpec spec = parsed({{"FILE", "Mail/new/"}});
    EXPECT_EQ(spec.path, "/home/u/Mail/new");
    EXPECT_EQ(spec.file, "Mail/new/");
    EXPECT_EQ(spec.target, Target::Directory);
}

TEST(WatchSpec, PathsAreNormalisedForWatchingOnly) {
    const WatchSpec spec = parsed({{"FILE", "//tmp/./a//b/"}});
    EXPECT_EQ(spec.path, "/tmp/a/b");
    EXPECT_EQ(spec.file, "//tmp/./a//b/");
}

TEST(WatchSpec, EventMayBeNegatedOrAGlob) {
    EXPECT_EQ(parsed({{"FILE", "/x"}, {"EVENT", "delete", true}}).kinds, unsigned{Create | Modify});
    EXPECT_EQ(parsed({{"FILE", "/x"}, {"EVENT", "*e"}}).kinds, unsigned{Create | Delete});
}

TEST(WatchSpec, RecursiveYesWatchesATree) {
    const WatchSpec spec = parsed({{"FILE", "/src/"}, {"RECURSIVE", "yes"}});
    EXPECT_TRUE(spec.recursive);
    EXPECT_EQ(spec.recursive_text, "yes");
    EXPECT_FALSE(parsed({{"FILE", "/src/"}, {"RECURSIVE", "no"}}).recursive);
}

TEST(WatchSpec, MatchMayFilterWithoutChangingWhatIsWatched) {
    EXPECT_EQ(parsed({{"FILE", "/d/*"}, {"MATCH", "/d/a*"}}).glob, "*");
}

TEST(WatchSpec, WhatCannotBeWatchedIsRefusedWithTheReason) {
    EXPECT_EQ(refused({{"EVENT", "create"}}), "no FILE=: nothing to watch");
    EXPECT_EQ(refused({{"FILE", "~bob/x"}}), "FILE=~bob/x: ~user is not supported");
    EXPECT_EQ(refused({{"FILE", "/a/../b"}}), "FILE=/a/../b: '..' is not allowed");
    EXPECT_EQ(refused({{"FILE", "./x"}}),
              "FILE=./x: relative paths are taken from $HOME; write 'x' or '~/...' instead");
    EXPECT_EQ(refused({{"FILE", "/a/*/b"}}),
              "FILE=/a/*/b: a glob may only be in the last part of the path");
    EXPECT_EQ(refused({{"FILE", "/a/*/"}}),
              "FILE=/a/*/: a glob matches a directory's entries; drop the trailing /");
    EXPECT_EQ(refused({{"FILE", "/x", true}}), "FILE!=/x names no file to watch");
    EXPECT_EQ(refused({{"", "/x"}}),
              "'/x': file events take FILE=, EVENT= and RECURSIVE=, not positional values");
    EXPECT_EQ(refused({{"FILE", "/x"}, {"COLOUR", "red"}}),
              "COLOUR is not a variable of file events (FILE, EVENT, MATCH, RECURSIVE): the "
              "condition could never be true");
    EXPECT_EQ(refused({{"FILE", "/x"}, {"EVENT", "created"}}),
              "EVENT=created leaves none of create, modify and delete");
    EXPECT_EQ(refused({{"FILE", "/x/"}, {"RECURSIVE", "maybe"}}),
              "RECURSIVE=maybe: it takes yes or no");
    EXPECT_EQ(refused({{"FILE", "/x"}, {"RECURSIVE", "yes"}}),
              "FILE=/x RECURSIVE=yes: a tree needs a directory (a FILE ending in /) or a glob");
    EXPECT_EQ(refused({{"FILE", "$NOPE/x"}}), "FILE=$NOPE/x: a variable it uses is not set");
}

TEST(WatchSpec, GlobsMatchLikeTheShell) {
    EXPECT_TRUE(globMatches("*.txt", "a.txt"));
    EXPECT_FALSE(globMatches("*.txt", ".a.txt"));  // FNM_PERIOD
    EXPECT_FALSE(globMatches("*", "a/b"));         // FNM_PATHNAME
    EXPECT_TRUE(globMatches("[ab]?", "bz"));
}

TEST(WatchSpec, PathHelpers) {
    EXPECT_EQ(parentOf("/a/b"), "/a");
    EXPECT_EQ(parentOf("/a"), "/");
    EXPECT_EQ(joinPath("/", "a"), "/a");
    EXPECT_EQ(joinPath("/a", "b"), "/a/b");
    EXPECT_TRUE(isSelfOrBelow("/a/b", "/a"));
    EXPECT_TRUE(isSelfOrBelow("/a", "/a"));
    EXPECT_FALSE(isSelfOrBelow("/ab", "/a"));
    EXPECT_TRUE(isSelfOrBelow("/ab", "/"));
}

}  // namespace
}  // namespace tend::file_bridge
