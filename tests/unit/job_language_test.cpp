// SPDX-License-Identifier: MIT
// Behaviour of the job language as a user sees it: what a file loads into, and what the
// diagnostics say. Upstart's own parser cases are golden tests under tests/grammar/cases/.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/job_printer.hpp"
#include "support/job_text.hpp"
#include "tend/grammar/parse.hpp"

namespace tend {
namespace {

using test::formatted;
using test::loadText;
using ::testing::HasSubstr;

constexpr const char* kSeedExample = R"(description "imapfilter"
author "Kyle Manna <kyle@kylemanna.com>"

# Start after keyring registers on dbus
start on started dbus
#stop on desktop-end

# Automatically restart process if crashed
respawn

# Log this job's stdout to ~/.cache/upstart/<name>.log
# default is console log
#console log

# Start in foreground mode so it can be properly managed
exec imapfilter -v
)";

TEST(SeedExample, LoadsVerbatimIntoTheExpectedDefinition) {
    const auto result = loadText(kSeedExample, "imapfilter.conf");
    ASSERT_TRUE(result.job) << formatted(result);
    EXPECT_TRUE(result.diagnostics.empty()) << formatted(result);
    const model::JobClass& job = *result.job;
    EXPECT_EQ(job.description, "imapfilter");
    EXPECT_EQ(job.seldom->author, "Kyle Manna <kyle@kylemanna.com>");
    ASSERT_TRUE(job.start_on);
    EXPECT_EQ(job.start_on->toString(), "started dbus");
    EXPECT_EQ(job.start_on->root().match.args.at(0).value, "dbus");
    EXPECT_FALSE(job.stop_on);
    EXPECT_TRUE(job.respawn);
    EXPECT_EQ(job.console, model::Console::Default);
    ASSERT_TRUE(job.process(model::ProcessType::Main));
    EXPECT_EQ(job.process(model::ProcessType::Main)->command, "imapfilter -v");
    EXPECT_FALSE(job.process(model::ProcessType::Main)->script);
}

TEST(Conditions, FoldAndAndOrLeftToRightWithEqualPrecedence) {
    const auto result = loadText("start on a and b or c\n");
    ASSERT_TRUE(result.job && result.job->start_on);
    const grammar::EventCondition& folded = *result.job->start_on;
    EXPECT_EQ(folded.root().kind, grammar::EventNode::Kind::Or);
    EXPECT_EQ(folded.node(folded.root().lhs).kind, grammar::EventNode::Kind::And);
    EXPECT_EQ(loadText("start on a and b or c\n").job->start_on->toString(), "a and b or c");
    EXPECT_EQ(loadText("start on a or b and c\n").job->start_on->toString(), "a or b and c");
    EXPECT_EQ(loadText("start on a or (b and c)\n").job->start_on->toString(), "a or (b and c)");
}

TEST(Conditions, SpanLinesOnlyInsideParentheses) {
    const auto ok = loadText("start on (a # first\n   or\n b)\nexec x\n");
    ASSERT_TRUE(ok.job) << formatted(ok);
    EXPECT_EQ(ok.job->start_on->toString(), "a or b");
    const auto bad = loadText("start on a or\n b\n");
    EXPECT_FALSE(bad.job);
    EXPECT_THAT(formatted(bad),
                HasSubstr("job.conf:1:14: error: expected an event name at end of line"));
}

// Found by the fuzzer: fully bracketing a long left-folded chain printed more than the 64 levels
// of parentheses the parser accepts.
TEST(Printer, WritesLongChainsAndDeepGroupsWithinTheNestingLimit) {
    std::string chain = "start on e0";
    for (int i = 1; i < 200; ++i) {
        chain += (i % 2 ? " or e" : " and e") + std::to_string(i);
    }
    std::string deep = "start on " + std::string(grammar::kMaxParenDepth - 1, '(') + "a or (b" +
                       std::string(grammar::kMaxParenDepth, ')');
    for (const std::string& text : {chain, deep}) {
        const auto first = loadText(text + "\n");
        ASSERT_TRUE(first.job) << formatted(first);
        const auto second = loadText(conf::printJobClass(*first.job));
        ASSERT_TRUE(second.job) << formatted(second);
        EXPECT_EQ(*second.job, *first.job);
    }
}

TEST(Conditions, AreLimitedInHowManyEventsTheyName) {
    std::string text = "start on e0";
    for (std::size_t i = 1; i <= grammar::kMaxConditionEvents; ++i) {
        text += " or e" + std::to_string(i);
    }
    EXPECT_THAT(formatted(loadText(text + "\n")),
                HasSubstr("job.conf:1:10: error: condition names 257 events; the limit is 256"));
}

TEST(Conditions, TreatQuotedOperatorsAsPlainWords) {
    const auto result = loadText("start on \"and\" or x \"or\"\n");
    ASSERT_TRUE(result.job) << formatted(result);
    EXPECT_EQ(result.job->start_on->toString(), "\"and\" or x \"or\"");
}

TEST(Conditions, SplitNamedOperandsAndKeepGlobsAndVariables) {
    const auto result = loadText("stop on runlevel [!$RUNLEVEL] KEY!=a* \"FRODO=foo bar\"\n");
    ASSERT_TRUE(result.job) << formatted(result);
    const auto& args = result.job->stop_on->root().match.args;
    ASSERT_EQ(args.size(), 3u);
    EXPECT_TRUE(args[0].positional());
    EXPECT_EQ(args[0].value, "[!$RUNLEVEL]");
    EXPECT_EQ(args[1].key, "KEY");
    EXPECT_TRUE(args[1].negated);
    EXPECT_EQ(args[1].value, "a*");
    EXPECT_EQ(args[2].key, "FRODO");
    EXPECT_EQ(args[2].value, "foo bar");
}

TEST(Diagnostics, ReportEveryErrorInAFileWithLineColumnAndCaret) {
    const auto result = loadText(
        "description \"ok\"\n"
        "frobnicate yes\n"
        "kill timeout soon\n"
        "start on (a or b\n");
    EXPECT_FALSE(result.job);
    const std::string text = formatted(result);
    EXPECT_THAT(text, HasSubstr("job.conf:2:1: error: unknown stanza 'frobnicate'\n"
                                "    frobnicate yes\n"
                                "    ^\n"));
    EXPECT_THAT(text, HasSubstr("job.conf:3:14: error: illegal interval 'soon'"));
    EXPECT_THAT(text,
                HasSubstr("job.conf:5:1: error: unbalanced '(': expected ')' before end of file"));
    EXPECT_EQ(result.diagnostics.size(), 3u) << text;
}

TEST(Diagnostics, SuggestTheKeywordAMisspeltStanzaWasMeantToBe) {
    EXPECT_THAT(formatted(loadText("Exec foo\n")),
                HasSubstr("unknown stanza 'Exec'; did you mean 'exec'?"));
    EXPECT_THAT(formatted(loadText("respwan\n")), HasSubstr("did you mean 'respawn'?"));
    EXPECT_THAT(formatted(loadText("exce /bin/true\n")), HasSubstr("did you mean 'exec'?"));
    EXPECT_THAT(formatted(loadText("go away\n")), ::testing::Not(HasSubstr("did you mean")));
    EXPECT_THAT(formatted(loadText("\"exec\" foo\n")), HasSubstr("unknown stanza '\"exec\"'"));
}

TEST(Diagnostics, PointABareShellLineAtExecOrScript) {
    const auto result = loadText("exec true\ngo run cli/http.go | logger -t x\n");
    EXPECT_THAT(formatted(result),
                HasSubstr("job.conf:2:1: error: unknown stanza 'go'; a command line belongs after "
                          "'exec' or inside a 'script' block"));
}

TEST(Exec, RunsTheRawRestOfTheLineWithCommentsCut) {
    EXPECT_EQ(loadText("exec echo a#b\n").job->process(model::ProcessType::Main)->command,
              "echo a");
    EXPECT_EQ(loadText("exec echo \"a#b\"  # c\n").job->process(model::ProcessType::Main)->command,
              "echo \"a#b\"");
    EXPECT_EQ(loadText("exec script\n").job->process(model::ProcessType::Main)->command, "script");
}

TEST(Script, StripsCommonIndentationAndNeedsAStrictTerminator) {
    const auto result = loadText(
        "pre-start script\n"
        "    if true; then\n"
        "        echo \"end script\"\n"
        "\n"
        "    fi\n"
        "    end scriptx\n"
        "  end   script   # done\n"
        "exec x\n");
    ASSERT_TRUE(result.job) << formatted(result);
    EXPECT_EQ(result.job->process(model::ProcessType::PreStart)->command,
              "if true; then\n    echo \"end script\"\n\nfi\nend scriptx\n");
}

TEST(Processes, TheOrderOfTheirStanzasMakesNoDifferentJobAndALaterOneReplaces) {
    const auto hooks_first = loadText("post-stop exec c\npre-start exec a\nexec b\n");
    const auto main_first = loadText("exec b\npre-start exec a\npost-stop exec c\n");
    ASSERT_TRUE(hooks_first.job && main_first.job);
    // Hot reload calls a file whose definition is equal to the one in force unchanged.
    EXPECT_EQ(*hooks_first.job, *main_first.job);
    EXPECT_EQ(hooks_first.job->process(model::ProcessType::PreStart)->command, "a");
    EXPECT_EQ(hooks_first.job->process(model::ProcessType::Main)->command, "b");
    EXPECT_EQ(hooks_first.job->process(model::ProcessType::PostStop)->command, "c");
    EXPECT_FALSE(hooks_first.job->process(model::ProcessType::PostStart));

    const auto twice = loadText("exec first\npre-stop exec hook\nexec second\n");
    ASSERT_TRUE(twice.job);
    EXPECT_EQ(twice.job->process(model::ProcessType::Main)->command, "second");
    EXPECT_NE(*twice.job, *loadText("exec first\npre-stop exec hook\n").job);
}

TEST(Override, ReplacesScalarsAppendsListsAndManualClearsStartOn) {
    const grammar::SourceText conf("j.conf", "start on a\nenv A=1\ndescription \"old\"\nexec x\n");
    const grammar::SourceText over("j.override", "manual\nenv B=2\ndescription \"new\"\n");
    const auto result = conf::loadJob("j", conf, &over, test::coreRegistry());
    ASSERT_TRUE(result.job) << formatted(result);
    EXPECT_FALSE(result.job->start_on);
    EXPECT_EQ(result.job->description, "new");
    ASSERT_EQ(result.job->env.size(), 2u);
    EXPECT_EQ(result.job->env[1].name, "B");
}

TEST(Override, ThatIsBrokenIsIgnoredAndTheConfStaysInForce) {
    const grammar::SourceText conf("j.conf", "start on a\nexec x\n");
    const grammar::SourceText over("j.override", "manual\nkill timeout never\n");
    const auto result = conf::loadJob("j", conf, &over, test::coreRegistry());
    ASSERT_TRUE(result.job);
    EXPECT_TRUE(result.job->start_on) << "the broken override's 'manual' must not apply";
    EXPECT_TRUE(result.hasErrors());
    EXPECT_THAT(formatted(result), HasSubstr("j.override:2:14: error: illegal interval 'never'"));
    EXPECT_THAT(formatted(result), HasSubstr("override ignored"));
}

TEST(Printer, WritesEveryStanzaSoThatItParsesBackEqual) {
    const char* text = R"(description "all of it"
author 'a "quoted" author'
version 1.0
usage "start all DEV=x"
instance $DEV
start on (started dbus and (file FILE=/tmp/* EVENT!=delete or "and"))
stop on stopping dbus
emits one two
env A="x y"
env B
export A B
task
respawn
respawn limit 3 7
normal exit 0 2 TERM SIGHUP
expect fork
kill signal INT
kill timeout 30
reload signal USR2
console none
umask 0027
nice -5
oom score -500
limit nofile 1024 unlimited
limit core 0 0
chdir /tmp
chroot /
setuid nobody
setgid nogroup
apparmor load /etc/apparmor.d/x
apparmor switch prof
cgroup memory
cgroup cpu grp shares 10
debug
pre-start exec /bin/true
script
    echo "main"
end script
post-start script
	echo tabbed
end script
pre-stop exec kill -0 $$
post-stop exec rm -f /tmp/x
)";
    const auto first = loadText(text);
    ASSERT_TRUE(first.job) << formatted(first);
    const std::string printed = conf::printJobClass(*first.job);
    const auto second = loadText(printed);
    ASSERT_TRUE(second.job) << formatted(second) << printed;
    EXPECT_EQ(*first.job, *second.job) << printed;
    EXPECT_EQ(conf::printJobClass(*second.job), printed);
}

// Found by the fuzzer: a whitespace-only script line grew the printer's indentation on each
// print -> parse cycle.
TEST(Printer, KeepsWhitespaceOnlyScriptLinesStableAcrossRoundTrips) {
    const auto first = test::loadText("task\nscript\n \n\tx\n    \nend script\n");
    ASSERT_TRUE(first.job) << test::formatted(first);
    EXPECT_EQ(first.job->process(model::ProcessType::Main)->command, " \nx\n    \n");
    const auto second = test::loadText(conf::printJobClass(*first.job));
    ASSERT_TRUE(second.job);
    EXPECT_EQ(*second.job, *first.job);
}

// Regression: `env script` once opened a script block that swallowed the rest of the file.
TEST(Script, OnlyScriptAndTheFourHooksOpenABlock) {
    const auto result = test::loadText("env script\ndescription script\nexec script\n");
    ASSERT_TRUE(result.job) << test::formatted(result);
    EXPECT_EQ(result.job->env.at(0).name, "script");
    EXPECT_EQ(result.job->description, "script");
    EXPECT_EQ(result.job->process(model::ProcessType::Main)->command, "script");
}

// Regression: an escaped trailing blank in an exec line was trimmed to a bare backslash.
TEST(Exec, KeepsAnEscapedTrailingBlank) {
    const auto result = test::loadText("exec foo\\ \n");
    ASSERT_TRUE(result.job);
    EXPECT_EQ(result.job->process(model::ProcessType::Main)->command, "foo\\ ");
    const auto again = test::loadText(conf::printJobClass(*result.job));
    ASSERT_TRUE(again.job);
    EXPECT_EQ(*again.job, *result.job);
}

TEST(TendStanzas, RespawnDelayStartTimeoutAndLogTimestampLoadAndPrint) {
    const auto result =
        loadText("respawn\nrespawn delay 250ms 2m\nstart timeout 1500ms\nlog timestamp\nexec x\n");
    ASSERT_TRUE(result.job) << formatted(result);
    ASSERT_TRUE(result.job->respawn_delay);
    EXPECT_EQ(result.job->respawn_delay->initial_ms, 250u);
    EXPECT_EQ(result.job->respawn_delay->max_ms, 120000u);
    EXPECT_EQ(result.job->start_timeout_ms, 1500u);
    EXPECT_TRUE(result.job->log_timestamps);
    const std::string printed = conf::printJobClass(*result.job);
    EXPECT_THAT(printed, HasSubstr("respawn delay 250ms 2m\n"));
    EXPECT_THAT(printed, HasSubstr("start timeout 1500ms\n"));
    const auto again = loadText(printed);
    ASSERT_TRUE(again.job);
    EXPECT_EQ(*again.job, *result.job);
}

TEST(TendStanzas, RespawnDelayDefaultsItsCapAndRejectsNonsense) {
    const auto plain = loadText("respawn delay 2s\nexec x\n");
    ASSERT_TRUE(plain.job);
    EXPECT_EQ(plain.job->respawn_delay->max_ms, 30000u);
    EXPECT_THAT(
        formatted(loadText("respawn delay 5s 1s\nexec x\n")),
        HasSubstr("job.conf:1:18: error: the maximum respawn delay '1s' is shorter than the "
                  "initial delay '5s'"));
    EXPECT_THAT(formatted(loadText("respawn delay soon\nexec x\n")),
                HasSubstr("job.conf:1:15: error: illegal duration 'soon'"));
    EXPECT_THAT(formatted(loadText("start timeout\nexec x\n")), HasSubstr("error:"));
    EXPECT_THAT(formatted(loadText("log loudly\nexec x\n")),
                HasSubstr("expected 'log timestamp' or 'log plain'"));
}

}  // namespace
}  // namespace tend

namespace tend {
namespace {

// A plugin's two-word stanza (`log rotate`) beside the core's `log timestamp`.
conf::LoadResult loadWith(const conf::StanzaRegistry& registry, const std::string& text) {
    const grammar::SourceText source("job.conf", text);
    return conf::loadJob("job", source, nullptr, registry);
}

TEST(TwoWordStanza, TakesItsSecondWordAndLeavesTheOneWordStanzaAlone) {
    conf::StanzaRegistry registry = conf::StanzaRegistry::withCoreStanzas();
    std::vector<std::string> seen;
    ASSERT_TRUE(registry.add("log rotate", "logrotate", [&](conf::StanzaContext& c) {
        for (std::size_t i = 0; i < c.argCount(); ++i) {
            seen.push_back(c.arg(i).text);
        }
    }));
    const auto result = loadWith(registry, "log rotate size 1M\nlog timestamp\nexec true\n");
    ASSERT_TRUE(result.job) << test::formatted(result);
    EXPECT_EQ(seen, (std::vector<std::string>{"size", "1M"}));
    EXPECT_TRUE(result.job->log_timestamps);
}

TEST(TwoWordStanza, WhoseOwnerIsGoneSaysWhichPluginItNeeds) {
    conf::StanzaRegistry registry = conf::StanzaRegistry::withCoreStanzas();
    registry.retire("log rotate", "logrotate");
    const auto result = loadWith(registry, "log rotate size 1M\nexec true\n");
    EXPECT_THAT(test::formatted(result),
                HasSubstr("job.conf:1:1: error: stanza 'log rotate' needs plugin logrotate"));
}

TEST(TwoWordStanza, UnclaimedIsTheCoreStanzasError) {
    const auto result = test::loadText("log rotate size 1M\nexec true\n");
    EXPECT_THAT(test::formatted(result), HasSubstr("unknown stanza 'log rotate'"));
}

}  // namespace
}  // namespace tend
