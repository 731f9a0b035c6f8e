// SPDX-License-Identifier: MIT
// The rules of `tendctl check-config` beyond syntax (conf/job_lint.hpp), on small sets of jobs
// held in memory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conf/event_sources.hpp"
#include "conf/job_lint.hpp"
#include "conf/match_constraints.hpp"
#include "support/job_text.hpp"
#include "tend/grammar/parse.hpp"

namespace tend::conf {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct JobText {
    std::string name;
    std::string text;
};

model::JobClass load(const JobText& job) {
    const auto result = loadJob(job.name, grammar::SourceText(job.name + ".conf", job.text),
                                nullptr, test::coreRegistry());
    EXPECT_TRUE(result.job) << test::formatted(result);
    return result.job.value_or(model::JobClass{});
}

// Lints the first job of `session` with every job of it known.
std::vector<LintFinding> lintFirst(const std::vector<JobText>& session,
                                   const std::vector<std::string>& assumed = {}) {
    EventSources sources;
    std::vector<model::JobClass> jobs;
    for (const auto& text : session) {
        jobs.push_back(load(text));
        sources.addJob(jobs.back());
    }
    for (const auto& pattern : assumed) {
        sources.assumeEvents(pattern);
    }
    return lintJob(jobs.front(), sources);
}

// "error unknown-event start on: unknown event peach": what a finding says, in one string.
std::vector<std::string> said(const std::vector<LintFinding>& findings) {
    std::vector<std::string> out;
    for (const auto& f : findings) {
        out.push_back(std::string(grammar::severityName(f.severity)) + ' ' +
                      std::string(findingKindName(f.kind)) + ' ' + f.message);
    }
    return out;
}

std::vector<std::string> lintSaid(const std::string& text, const std::vector<JobText>& others = {},
                                  const std::vector<std::string>& assumed = {}) {
    std::vector<JobText> session{{"job", text}};
    session.insert(session.end(), others.begin(), others.end());
    return said(lintFirst(session, assumed));
}

grammar::EventMatch match(const std::string& text) {
    auto result = grammar::parseCondition(grammar::SourceText("cond", text));
    EXPECT_TRUE(result.condition) << text;
    return result.condition ? result.condition->root().match : grammar::EventMatch{};
}

std::string contradiction(const std::string& text) {
    const auto found = findContradiction(match(text));
    return found ? found->reason : "";
}

// ---------------------------------------------------------------------------------------------
// unknown-event

TEST(UnknownEvent, IsReportedInUpstartsWordsWhenNoJobEmitsIt) {
    const auto findings = lintFirst({{"job", "start on peach\nstop on plum\n"}});
    EXPECT_THAT(said(findings), ElementsAre("error unknown-event start on: unknown event peach",
                                            "error unknown-event stop on: unknown event plum"));
    ASSERT_EQ(findings.size(), 2u);
    EXPECT_EQ(findings[0].stanza, "start on");
    EXPECT_EQ(findings[0].offset, 9u) << "points at the event's name";
}

TEST(UnknownEvent, EventsSomeJobEmitsAreKnownGlobsIncluded) {
    EXPECT_THAT(lintSaid("start on desktop-start and net-up\n",
                         {{"session", "emits desktop-*\n"}, {"net", "emits net-up\n"}}),
                IsEmpty());
}

// Which plugins are loaded decides whether their events can happen; a standard plugin's events
// name the plugin when it is not loaded.
TEST(UnknownEvent, AnEventOfAStandardPluginNamesThePluginWhenItIsNotLoaded) {
    EventSources sources;
    sources.setLoadedPlugins({{"echo", {"pong", "hold-*"}}});
    EXPECT_TRUE(sources.canHappen("pong"));
    EXPECT_TRUE(sources.canHappen("hold-me"));
    EXPECT_TRUE(sources.canHappen("pong/failed"));
    EXPECT_FALSE(sources.canHappen("file"));
    EXPECT_EQ(sources.absentPlugin("file"), "file-bridge");
    EXPECT_EQ(sources.absentPlugin("file/failed"), "file-bridge");
    EXPECT_EQ(sources.absentPlugin("dbus-name"), "dbus-bridge");
    EXPECT_EQ(sources.absentPlugin(":sys:suspend"), "dbus-bridge");
    EXPECT_EQ(sources.absentPlugin("peach"), std::nullopt);
    EXPECT_EQ(sources.absentPlugin("pong"), std::nullopt);

    sources.setLoadedPlugins({{"file-bridge", {"file"}}});
    EXPECT_TRUE(sources.canHappen("file"));
    EXPECT_EQ(sources.absentPlugin("file"), std::nullopt);
    // A standard plugin that is loaded but does not emit an event of its name: unknown, not
    // absent.
    sources.setLoadedPlugins({{"dbus-bridge", {"dbus"}}});
    EXPECT_TRUE(sources.canHappen("dbus"));
    EXPECT_FALSE(sources.canHappen("dbus-name"));
    EXPECT_EQ(sources.absentPlugin("dbus-name"), std::nullopt);
    // A job that emits the event provides it as well as the plugin would.
    EventSources with_job;
    with_job.setLoadedPlugins({});
    model::JobClass emitter;
    emitter.name = "fake-bus";
    emitter.emits = {"dbus"};
    with_job.addJob(emitter);
    EXPECT_TRUE(with_job.canHappen("dbus"));
}

TEST(PluginNotLoaded, ConsoleJournalWithoutJournalLoggerIsAWarning) {
    model::JobClass job;
    job.name = "quiet";
    job.console = model::Console::Journal;
    EventSources sources;
    sources.setLoadedPlugins({{"file-bridge", {"file"}}});
    const auto findings = lintJob(job, sources);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].kind, FindingKind::PluginNotLoaded);
    EXPECT_EQ(findings[0].severity, grammar::Severity::Warning);
    EXPECT_EQ(findings[0].message,
              "console journal: the journal is reached through plugin journal-logger, which is "
              "not loaded; the output goes to the job's log file");
    sources.setLoadedPlugins({{"journal-logger", {}}});
    EXPECT_TRUE(lintJob(job, sources).empty());
}

TEST(UnknownJob, JobsProvidedElsewhereExist) {
    EventSources sources;
    sources.assumeJobs("dbus");
    sources.assumeJobs("net/*");
    EXPECT_TRUE(sources.jobExists("dbus"));
    EXPECT_TRUE(sources.jobExists("net/web"));
    EXPECT_FALSE(sources.jobExists("ssh-agent"));
}

TEST(UnknownEvent, TendsOwnEventsAndItsBridgesAreKnown) {
    EXPECT_THAT(lintSaid("start on startup or file or dbus or started job\n"
                         "stop on session-end or stopping job or starting job or stopped job\n"),
                IsEmpty());
}

TEST(UnknownEvent, FailedEventsExistForEveryKnownEventButNotTwice) {
    EXPECT_THAT(lintSaid("start on startup/failed or started/failed or peach/failed\n",
                         {{"peaches", "emits peach\n"}}),
                IsEmpty());
    EXPECT_THAT(lintSaid("start on startup/failed/failed\n"),
                ElementsAre("error unknown-event start on: unknown event startup/failed/failed"));
    EXPECT_THAT(lintSaid("start on plum/failed\n"),
                ElementsAre("error unknown-event start on: unknown event plum/failed"));
}

TEST(UnknownEvent, IgnoredEventsAreTakenAsGivenGlobsIncluded) {
    EXPECT_THAT(lintSaid("start on filesystem and net-device-up IFACE=lo\n", {},
                         {"filesystem", "net-device-*"}),
                IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// unknown-job

TEST(UnknownJob, IsReportedForPositionalAndNamedJobOperands) {
    const auto findings =
        lintFirst({{"job", "start on started grape\nstop on stopping JOB=grape\n"}});
    EXPECT_THAT(said(findings), ElementsAre("error unknown-job start on: unknown job grape",
                                            "error unknown-job stop on: unknown job grape"));
    ASSERT_EQ(findings.size(), 2u);
    EXPECT_EQ(findings[0].offset, 17u) << "points at the operand that names the job";
    EXPECT_EQ(findings[1].offset, 40u);
}

TEST(UnknownJob, ExistingJobsGlobsAndTheJobItselfAreKnown) {
    EXPECT_THAT(lintSaid("start on started dbus or stopped JOB=net/* or stopping job\n",
                         {{"dbus", "exec dbus-daemon\n"}, {"net/web", "exec web\n"}}),
                IsEmpty());
    EXPECT_THAT(lintSaid("start on started JOB=db*\n"),
                ElementsAre("error unknown-job start on: unknown job db*"));
}

TEST(UnknownJob, VariablesAndNegationsAreNotJudged) {
    EXPECT_THAT(lintSaid("stop on started $WAIT_FOR or stopped JOB=$WAIT_FOR\n"), IsEmpty());
    EXPECT_THAT(lintSaid("start on stopped JOB!=grape\n"), IsEmpty());
}

TEST(UnknownJob, AJobFileThatDoesNotLoadStillNamesAJob) {
    EventSources sources;
    sources.addJobName("broken");
    const auto job = load({"job", "start on started broken\n"});
    EXPECT_THAT(said(lintJob(job, sources)), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// How severe: the whole condition impossible, or only one way of making it true

TEST(Reachability, AnImpossibleSideOfAnOrIsAWarning) {
    EXPECT_THAT(lintSaid("start on peach or startup\n"),
                ElementsAre("warning unknown-event start on: unknown event peach (the rest of the "
                            "condition can still become true)"));
}

TEST(Reachability, AnImpossibleSideOfAnAndIsAnError) {
    EXPECT_THAT(lintSaid("start on startup and peach\n"),
                ElementsAre("error unknown-event start on: unknown event peach"));
}

TEST(Reachability, OnlyTheSidesThatMakeItImpossibleAreErrors) {
    EXPECT_THAT(lintSaid("start on (peach or plum) and (startup or pear)\n"),
                ElementsAre("error unknown-event start on: unknown event peach",
                            "error unknown-event start on: unknown event plum",
                            "warning unknown-event start on: unknown event pear (the rest of the "
                            "condition can still become true)"));
    EXPECT_THAT(lintSaid("start on (peach and startup) or startup\n"),
                ElementsAre("warning unknown-event start on: unknown event peach (the rest of "
                            "the condition can still become true)"));
}

// ---------------------------------------------------------------------------------------------
// never-true

TEST(NeverTrue, AKeyRequiredToMatchAndNotToMatchTheSameValue) {
    EXPECT_THAT(lintSaid("start on started JOB=a JOB!=a\n", {{"a", "exec a\n"}}),
                ElementsAre("error never-true start on: 'started JOB=a JOB!=a' can never match: "
                            "JOB must be 'a' and must not be 'a'"));
    EXPECT_EQ(contradiction("foo K=abc K!=a*"), "K must be 'abc' and must not match 'a*'");
    EXPECT_EQ(contradiction("foo K=a* K!=a*"), "K must match 'a*' and must not");
}

// A malformed ${...} in an operand expands to nothing whatever the environment, so the match
// can never happen; as the only way in, an error, beside another way (`or`), a warning.
TEST(NeverTrue, AnOperandWhoseExpansionIsMalformed) {
    EXPECT_THAT(lintSaid("start on tick FILE=${HOME\n", {}, {"tick"}),
                ElementsAre("error never-true start on: 'tick FILE=${HOME' can never match: '${' "
                            "has no closing '}'"));
    EXPECT_THAT(lintSaid("start on tick FILE=${HOME?x} or tock\n", {}, {"tick", "tock"}),
                ElementsAre("warning never-true start on: 'tick FILE=${HOME?x}' can never match: "
                            "a ${...} in it is none of ${NAME}, ${NAME:-WORD}, ${NAME-WORD}, "
                            "${NAME:+WORD} and ${NAME+WORD} (the rest of the condition can "
                            "still become true)"));
    // Well-formed, an unset name is the environment's business, not the file's.
    EXPECT_THAT(lintSaid("start on tick FILE=${HOME}/x A=$B C=${D:-e}\n", {}, {"tick"}), IsEmpty());
}

TEST(BadExpansion, AnInstanceThatCanNeverExpandFailsEveryStart) {
    EXPECT_THAT(lintSaid("instance ${NAME\nexec x\n"),
                ElementsAre("error bad-expansion instance: '${NAME' can never expand: '${' has "
                            "no closing '}'; every start of the job would fail"));
    EXPECT_THAT(lintSaid("instance $NAME-${N:-0}\nexec x\n"), IsEmpty());
}

TEST(NeverTrue, AKeyRequiredToEqualTwoValues) {
    EXPECT_EQ(contradiction("foo K=a K=b"), "K cannot be both 'a' and 'b'");
    EXPECT_EQ(contradiction("foo K=a K=b*"), "K must be 'a', which does not match 'b*'");
    EXPECT_EQ(contradiction("foo K=abc K=a* K=abc"), "");
    EXPECT_EQ(contradiction("foo K=a L=b"), "");
}

TEST(NeverTrue, APositionalJobThatContradictsANamedOneOnLifecycleEvents) {
    EXPECT_THAT(lintSaid("start on started grape JOB=apple\n"),
                ElementsAre("error never-true start on: 'started grape JOB=apple' can never "
                            "match: JOB cannot be both 'grape' and 'apple'"))
        << "the contradiction is reported rather than the unknown job";
    EXPECT_EQ(contradiction("stopping a b INSTANCE=c"), "INSTANCE cannot be both 'b' and 'c'");
    EXPECT_EQ(contradiction("stopped a b failed RESULT=ok"),
              "RESULT cannot be both 'failed' and 'ok'");
    EXPECT_EQ(contradiction("started a b c RESULT=ok"), "")
        << "a started event's third variable is an exported one, not RESULT";
    EXPECT_EQ(contradiction("foo a K=b"), "") << "other events' positions are nobody's key";
}

TEST(NeverTrue, AResultOrProcessTendNeverSends) {
    EXPECT_EQ(contradiction("stopped a RESULT=success"),
              "a stopped event's RESULT is only ever 'ok' or 'failed'");
    EXPECT_EQ(contradiction("stopping a PROCESS=mian"),
              "a stopping event's PROCESS is only ever 'main', 'pre-start', 'post-start', "
              "'pre-stop', 'post-stop' or 'respawn'");
    EXPECT_EQ(contradiction("stopped a RESULT!=[of]*"),
              "a stopped event's RESULT is only ever 'ok' or 'failed'");
    EXPECT_EQ(contradiction("stopped a RESULT=fail* PROCESS=pre-*"), "");
    EXPECT_EQ(contradiction("foo RESULT=success"), "");
}

TEST(NeverTrue, ANegatedStarExcludesEveryValue) {
    EXPECT_EQ(contradiction("foo K!=*"), "K must not match '*', which every value does");
}

TEST(NeverTrue, OperandsWithVariablesAreLeftOut) {
    EXPECT_EQ(contradiction("started JOB=$J JOB!=a"), "");
    EXPECT_EQ(contradiction("started $J JOB=a"), "");
    EXPECT_EQ(contradiction("runlevel RUNLEVEL=2 RUNLEVEL!=[!$RUNLEVEL]"), "");
}

TEST(NeverTrue, PointsAtTheOperandThatMakesItImpossible) {
    const auto found = findContradiction(match("started JOB=a JOB!=a"));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->offset, 14u);
}

// ---------------------------------------------------------------------------------------------
// start-equals-stop

TEST(StartEqualsStop, TheSameConditionRestartsTheJobInsteadOfStoppingIt) {
    const auto findings =
        lintFirst({{"job", "start on startup and file\nstop on startup and file\n"}});
    EXPECT_THAT(said(findings),
                ElementsAre("warning start-equals-stop stop on: the same condition as start on; "
                            "each time it becomes true the running job is stopped and started "
                            "again, so it never stays stopped"));
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].stanza, "stop on");
    EXPECT_FALSE(findings[0].offset) << "points at the stanza";
}

TEST(StartEqualsStop, OnlyTheSameTreeCounts) {
    EXPECT_THAT(lintSaid("start on startup and file\nstop on file and startup\n"), IsEmpty());
    EXPECT_THAT(lintSaid("start on started a\nstop on stopped a\n", {{"a", "exec a\n"}}),
                IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// ignored-stanza

TEST(IgnoredStanza, ChrootApparmorAndCgroupAreWarnedAboutOnceEach) {
    const auto findings = lintFirst({{"job",
                                      "chroot /srv\napparmor load /etc/p\napparmor switch p\n"
                                      "cgroup memory\ncgroup cpu\nexec /bin/true\n"}});
    EXPECT_THAT(
        said(findings),
        ElementsAre("warning ignored-stanza chroot: not applied in a user session; the job runs "
                    "with the session's own root directory",
                    "warning ignored-stanza apparmor load: not applied in a user session; no "
                    "AppArmor profile is loaded",
                    "warning ignored-stanza apparmor switch: not applied in a user session; the "
                    "job runs under tend's own AppArmor profile",
                    "warning ignored-stanza cgroup: not applied in a user session; the job stays "
                    "in tend's own cgroup"));
    EXPECT_EQ(findings[1].stanza, "apparmor load");
}

TEST(IgnoredStanza, AJobWithoutThemIsClean) {
    EXPECT_THAT(lintSaid("exec /bin/true\n"), IsEmpty());
}

}  // namespace
}  // namespace tend::conf
