// SPDX-License-Identifier: MIT
// The match rules dbus-bridge asks the bus for, from jobs' `dbus` matches.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "match_rules.hpp"
#include "sys_events.hpp"

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

TEST(SysEvents, UnitPathsAreSystemdsEscaping) {
    EXPECT_EQ(unitPath("cups.service"), "/org/freedesktop/systemd1/unit/cups_2eservice");
    EXPECT_EQ(unitPath("getty@tty1.service"),
              "/org/freedesktop/systemd1/unit/getty_40tty1_2eservice");
    EXPECT_EQ(unitPath("1x.mount"), "/org/freedesktop/systemd1/unit/_31x_2emount");
    for (const char* unit : {"cups.service", "getty@tty1.service", "1x.mount", "a-b_c.slice"}) {
        EXPECT_EQ(unitOfPath(unitPath(unit)), unit);
    }
    EXPECT_EQ(unitOfPath("/org/freedesktop/login1"), "");
}

TEST(SysEvents, EachSysEventAsksForItsOwnSignal) {
    plugin::JobClassView job;
    job.matches = {plugin::EventMatch{":sys:started", {{"UNIT", "cups.service", false}}, false},
                   plugin::EventMatch{":sys:resume", {}, false},
                   plugin::EventMatch{":sys:unlock", {}, true}};
    const auto rules = sysRulesOf(job, "c2");
    ASSERT_EQ(rules.size(), 4u);
    EXPECT_THAT(*rules.begin(), ::testing::StartsWith("lock "));
    EXPECT_TRUE(rules.contains(
        "sleep type='signal',sender='org.freedesktop.login1',path='/org/freedesktop/login1',"
        "interface='org.freedesktop.login1.Manager',member='PrepareForSleep'"));
    EXPECT_TRUE(
        rules.contains("unit type='signal',sender='org.freedesktop.systemd1',"
                       "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                       "arg0='org.freedesktop.systemd1.Unit',"
                       "path='/org/freedesktop/systemd1/unit/cups_2eservice'"));
    // Without a literal UNIT, every unit's changes.
    plugin::JobClassView any;
    any.matches = {plugin::EventMatch{":sys:stopped", {{"UNIT", "*.service", false}}, false}};
    EXPECT_THAT(*sysRulesOf(any, "").begin(),
                ::testing::HasSubstr("path_namespace='/org/freedesktop/systemd1/unit'"));
}

}  // namespace
}  // namespace tend::dbus_bridge
