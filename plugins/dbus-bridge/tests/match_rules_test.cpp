// SPDX-License-Identifier: MIT
// The match rules dbus-bridge asks the bus for, from jobs' `dbus` matches.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "match_rules.hpp"

namespace tend::dbus_bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

plugin::EventMatch dbusMatch(std::vector<plugin::EventMatch::Argument> args) {
    return plugin::EventMatch{"dbus", std::move(args), false};
}

TEST(MatchRules, LiteralKeysBecomeTheRule) {
    EXPECT_EQ(matchRule(dbusMatch({{"SIGNAL", "NameOwnerChanged", false},
                                   {"INTERFACE", "org.freedesktop.DBus", false},
                                   {"OBJPATH", "/org/freedesktop/DBus", false},
                                   {"SENDER", "org.freedesktop.DBus", false},
                                   {"ARG0", "org.freedesktop.secrets", false}}),
                        "session"),
              "type='signal',member='NameOwnerChanged',interface='org.freedesktop.DBus',"
              "path='/org/freedesktop/DBus',sender='org.freedesktop.DBus',"
              "arg0='org.freedesktop.secrets'");
}

TEST(MatchRules, GlobsVariablesAndNegationsWidenTheRuleNeverNarrowIt) {
    EXPECT_EQ(matchRule(dbusMatch({{"SIGNAL", "Hello*", false},
                                   {"INTERFACE", "$IFACE", false},
                                   {"ARG1", "x", true},
                                   {"ARG2", "two", false}}),
                        "session"),
              "type='signal',arg2='two'");
    EXPECT_EQ(matchRule(dbusMatch({}), "session"), "type='signal'");
}

TEST(MatchRules, AMatchForTheOtherBusAsksNothingOfThisOne) {
    EXPECT_EQ(matchRule(dbusMatch({{"BUS", "system", false}, {"SIGNAL", "X", false}}), "session"),
              "");
    EXPECT_EQ(matchRule(dbusMatch({{"BUS", "session", false}, {"SIGNAL", "X", false}}), "session"),
              "type='signal',member='X'");
}

TEST(MatchRules, AQuoteInAValueIsEscaped) {
    EXPECT_EQ(ruleValue("it's"), "'it'\\''s'");
}

TEST(MatchRules, OnlyTheJobsDbusMatchesCount) {
    plugin::JobClassView job;
    job.name = "j";
    job.matches = {dbusMatch({{"SIGNAL", "A", false}}),
                   plugin::EventMatch{"file", {{"FILE", "/x", false}}, false},
                   dbusMatch({{"SIGNAL", "A", false}}), dbusMatch({{"SIGNAL", "B", false}})};
    EXPECT_THAT(rulesOf(job, "session"),
                ElementsAre("type='signal',member='A'", "type='signal',member='B'"));
    plugin::JobClassView other;
    EXPECT_THAT(rulesOf(other, "session"), IsEmpty());
}

}  // namespace
}  // namespace tend::dbus_bridge
