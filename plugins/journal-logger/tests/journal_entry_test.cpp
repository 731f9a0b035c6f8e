// SPDX-License-Identifier: MIT
// journal-logger's rules without a journal: the `<N>` priority prefix as systemd reads it, the
// fields of an entry, and the `jobs` setting and `journal` stanza.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "journal_entry.hpp"
#include "journal_selection.hpp"

namespace tend::journal {
namespace {

using ::testing::ElementsAre;

TEST(JournalPriorityPrefix, ALevelFromZeroToSevenIsTakenAndStripped) {
    for (int level = 0; level <= 7; ++level) {
        const std::string line = "<" + std::to_string(level) + ">text";
        const PrefixedLine parsed = parsePriorityPrefix(line);
        EXPECT_EQ(parsed.priority, level) << line;
        EXPECT_EQ(parsed.message, "text") << line;
    }
}

TEST(JournalPriorityPrefix, LeadingZerosAreTakenAsSystemdTakesThem) {
    EXPECT_EQ(parsePriorityPrefix("<03>boom").priority, 3);
    EXPECT_EQ(parsePriorityPrefix("<003>boom").message, "boom");
    EXPECT_EQ(parsePriorityPrefix("<0003>boom").message, "<0003>boom");
}

TEST(JournalPriorityPrefix, AnythingElseIsPartOfTheMessageAtInfoLevel) {
    for (const std::string line :
         {"plain", "", "<", "<>x", "<8>x", "<12>x", "<a>x", "<3", " <3>x", "x<3>y", "<-1>x"}) {
        const PrefixedLine parsed = parsePriorityPrefix(line);
        EXPECT_EQ(parsed.priority, 6) << line;
        EXPECT_EQ(parsed.message, line);
    }
}

TEST(JournalPriorityPrefix, AnEmptyMessageAfterThePrefixIsKeptEmpty) {
    const PrefixedLine parsed = parsePriorityPrefix("<2>");
    EXPECT_EQ(parsed.priority, 2);
    EXPECT_EQ(parsed.message, "");
}

TEST(JournalLineFields, CarryTheMessageRawWithTheJobAndWhatIsKnownOfIt) {
    const std::string binary("a\0b\xff", 4);
    EXPECT_THAT(lineFields("<4>" + binary, {"web", "eu", 42}),
                ElementsAre("MESSAGE=" + binary, "PRIORITY=4", "SYSLOG_IDENTIFIER=web",
                            "TEND_JOB=web", "TEND_INSTANCE=eu", "OBJECT_PID=42"));
    EXPECT_THAT(lineFields("hi", {"web", "", 0}),
                ElementsAre("MESSAGE=hi", "PRIORITY=6", "SYSLOG_IDENTIFIER=web", "TEND_JOB=web"));
}

TEST(JournalLineFields, TheStreamGivesThePriorityUnlessAPrefixDoes) {
    EXPECT_EQ(lineFields("oops", {"web", "", 0}, kStderrPriority)[1], "PRIORITY=4");
    EXPECT_EQ(lineFields("<2>oops", {"web", "", 0}, kStderrPriority)[1], "PRIORITY=2");
    EXPECT_EQ(lineFields("fine", {"web", "", 0}, kStdoutPriority)[1], "PRIORITY=6");
}

TEST(JournalStateFields, NameTheChangeWithTheFixedMessageId) {
    EXPECT_THAT(stateFields({"imapfilter", "", 7}, "running", "stopping", "stop"),
                ElementsAre("MESSAGE_ID=742085a102d540d3af03d0d54d3a7e41",
                            "MESSAGE=imapfilter state running -> stopping", "PRIORITY=6",
                            "SYSLOG_IDENTIFIER=tend", "TEND_JOB=imapfilter", "TEND_STATE=stopping",
                            "TEND_GOAL=stop", "OBJECT_PID=7"));
    EXPECT_THAT(stateFields({"web", "eu", 0}, "waiting", "starting", "start")[1],
                "MESSAGE=web (eu) state waiting -> starting");
}

TEST(JournalTendLogFields, TendsLevelIsTheEntrysPriority) {
    EXPECT_THAT(tendLogFields(3, "svc.conf:1:1: unknown stanza"),
                ElementsAre("MESSAGE=svc.conf:1:1: unknown stanza", "PRIORITY=3",
                            "SYSLOG_IDENTIFIER=tend"));
    EXPECT_EQ(tendLogFields(0, "x")[1], "PRIORITY=7");
    EXPECT_EQ(tendLogFields(1, "x")[1], "PRIORITY=6");
    EXPECT_EQ(tendLogFields(2, "x")[1], "PRIORITY=4");
    EXPECT_EQ(tendLogFields(4, "x")[1], "PRIORITY=2");
}

TEST(JournalJobsSetting, AllOrNothingSelectsEveryJob) {
    JobSelection selection;
    EXPECT_TRUE(selection.selected("any"));
    EXPECT_EQ(selection.applySetting("all"), "");
    EXPECT_TRUE(selection.all());
    EXPECT_TRUE(selection.selected("any"));
}

TEST(JournalJobsSetting, NamesSeparatedByCommasSelectOnlyThose) {
    JobSelection selection;
    EXPECT_EQ(selection.applySetting("mail, web ,backup"), "");
    EXPECT_FALSE(selection.all());
    EXPECT_TRUE(selection.selected("mail"));
    EXPECT_TRUE(selection.selected("web"));
    EXPECT_TRUE(selection.selected("backup"));
    EXPECT_FALSE(selection.selected("other"));
    EXPECT_EQ(selection.applySetting("one"), "");
    EXPECT_TRUE(selection.selected("one"));
    EXPECT_FALSE(selection.selected("mail"));
}

TEST(JournalJobsSetting, AnEmptyNameIsRefusedAndTheSelectionKept) {
    JobSelection selection;
    EXPECT_EQ(selection.applySetting("mail"), "");
    for (const char* bad : {"mail,", ",mail", "mail,,web", "mail web"}) {
        EXPECT_NE(selection.applySetting(bad), "") << bad;
        EXPECT_TRUE(selection.selected("mail")) << bad;
        EXPECT_FALSE(selection.selected("web")) << bad;
    }
}

TEST(JournalStanza, OnOrOffOverridesTheSettingUntilTheJobLosesIt) {
    JobSelection selection;
    ASSERT_EQ(selection.applySetting("mail"), "");
    selection.setOverride("mail", false);
    selection.setOverride("web", true);
    EXPECT_FALSE(selection.selected("mail"));
    EXPECT_TRUE(selection.selected("web"));
    selection.setOverride("mail", std::nullopt);
    EXPECT_TRUE(selection.selected("mail"));
}

TEST(JournalStanza, TakesOnlyOnOrOff) {
    EXPECT_EQ(JobSelection::parseStanza({"on"}), true);
    EXPECT_EQ(JobSelection::parseStanza({"off"}), false);
    std::string error;
    EXPECT_EQ(JobSelection::parseStanza({"maybe"}, &error), std::nullopt);
    EXPECT_EQ(error, "journal: expected 'on' or 'off'");
    EXPECT_EQ(JobSelection::parseStanza({}), std::nullopt);
    EXPECT_EQ(JobSelection::parseStanza({"on", "off"}), std::nullopt);
}

}  // namespace
}  // namespace tend::journal
