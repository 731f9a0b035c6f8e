// SPDX-License-Identifier: MIT
// Event matching, from Upstart's test_event_operator.c (reference parser-cases.md section 13),
// and the parameter expansion it relies on.
#include <gtest/gtest.h>

#include "model/event_operator.hpp"
#include "tend/grammar/parse.hpp"

namespace tend::model {
namespace {

grammar::EventCondition condition(const std::string& text) {
    auto result = grammar::parseCondition(grammar::SourceText("cond", text));
    EXPECT_TRUE(result.condition) << text;
    return result.condition.value_or(grammar::EventCondition{});
}

Event fooEvent() {
    return Event{1, "foo", {"FRODO=foo", "BILBO=bar", "MERRY=baz"}};
}

bool matches(const std::string& text, const Event& event = fooEvent(),
             const Environment& env = {}) {
    const auto cond = condition(text);
    return matchesEvent(cond.root().match, event, env);
}

TEST(EventMatch, FollowsUpstartsOperatorCases) {
    EXPECT_FALSE(matches("bar"));
    EXPECT_TRUE(matches("foo"));
    EXPECT_TRUE(matches("foo FRODO=foo BILBO=bar MERRY=baz"));
    EXPECT_FALSE(matches("foo FRODO=foo BILBO=baz MERRY=bar"));
    EXPECT_TRUE(matches("foo FRODO=foo BILBO!=baz MERRY=baz"));
    EXPECT_FALSE(matches("foo FRODO=foo BILBO!=bar MERRY=baz"));
    EXPECT_TRUE(matches("foo FRODO=foo BILBO=bar"));
    EXPECT_TRUE(matches("foo foo bar baz"));
    EXPECT_FALSE(matches("foo foo baz bar"));
    EXPECT_TRUE(matches("foo foo bar"));
    EXPECT_FALSE(matches("foo foo bar baz", Event{1, "foo", {"FRODO=foo", "BILBO=bar"}}));
    EXPECT_TRUE(matches("foo BILBO=bar FRODO=foo MERRY=baz"));
    EXPECT_TRUE(matches("foo foo bar PIPPIN=quux",
                        Event{1, "foo", {"FRODO=foo", "BILBO=bar", "MERRY=baz", "PIPPIN=quux"}}));
    EXPECT_FALSE(matches("foo MERRY=baz", Event{1, "foo", {"FRODO=foo", "BILBO=bar"}}));
    EXPECT_TRUE(matches("foo BILBO=b?r"));
    EXPECT_TRUE(matches("foo f*"));
    EXPECT_TRUE(matches("foo $FOO", fooEvent(), Environment{"FOO=foo"}));
    EXPECT_FALSE(matches("foo $WIBBLE"));
}

TEST(EventMatch, NegationStillNeedsTheKey) {
    EXPECT_FALSE(matches("foo PIPPIN!=x"));
}

TEST(EventMatch, GlobsCoverBracketsAndNegatedClasses) {
    const Event runlevel{1, "runlevel", {"RUNLEVEL=2", "PREVLEVEL=N"}};
    EXPECT_TRUE(matches("runlevel [2345]", runlevel));
    EXPECT_FALSE(matches("runlevel [!2345]", runlevel));
    EXPECT_TRUE(matches("runlevel [!$RUNLEVEL]", Event{1, "runlevel", {"RUNLEVEL=0"}},
                        Environment{"RUNLEVEL=2"}));
}

TEST(EventOperator, AndWaitsForBothSidesAcrossSeparateEvents) {
    EventOperator op(condition("started dbus and desktop-start"));
    EXPECT_TRUE(op.handle(Event{1, "started", {"JOB=dbus", "INSTANCE="}}, {}));
    EXPECT_FALSE(op.value());
    ASSERT_EQ(op.unmatched().size(), 1u);
    EXPECT_EQ(op.unmatched()[0]->name, "desktop-start");
    EXPECT_TRUE(op.handle(Event{2, "desktop-start", {}}, {}));
    EXPECT_TRUE(op.value());
    const auto events = op.matchedEvents();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]->id, 1u);
    EXPECT_EQ(events[1]->id, 2u);
    op.reset();
    EXPECT_FALSE(op.value());
}

TEST(EventOperator, OrCarriesOnlyTheEventsOfTheTrueSide) {
    EventOperator op(condition("a or b"));
    op.handle(Event{7, "b", {}}, {});
    ASSERT_TRUE(op.value());
    ASSERT_EQ(op.matchedEvents().size(), 1u);
    EXPECT_EQ(op.matchedEvents()[0]->name, "b");
}

TEST(Expand, SupportsUpstartsParameterForms) {
    const Environment env{"SET=value", "EMPTY="};
    EXPECT_EQ(expandVariables("$SET/${SET}", env), "value/value");
    EXPECT_EQ(expandVariables("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env), "d d  d");
    EXPECT_EQ(expandVariables("${SET:+a}${EMPTY:+b}${EMPTY+c}${UNSET+e}", env), "ac");
    EXPECT_EQ(expandVariables("cost: $5 \\$SET", env), "cost: $5 \\$SET");
    EXPECT_EQ(expandVariables("$UNSET", env), std::nullopt);
    EXPECT_EQ(expandVariables("${UNSET}", env), std::nullopt);
    EXPECT_EQ(expandVariables("${SET", env), std::nullopt);
}

TEST(Environment, SetReplacesInPlaceAndKeepsOrder) {
    Environment env{"A=1", "B=2"};
    env.set("A", "3");
    env.set("C", "4");
    EXPECT_EQ(env.entries(), (std::vector<std::string>{"A=3", "B=2", "C=4"}));
    env.unset("B");
    EXPECT_EQ(env.get("B"), std::nullopt);
    EXPECT_EQ(env.valueAt(1), "4");
}

}  // namespace
}  // namespace tend::model
