// SPDX-License-Identifier: MIT
// Clients that misbehave on the control socket: garbage, huge lines, wrong field types, clients
// that vanish mid-request or never read their replies, a thousand at once, and another user.
// Every test asserts what a user sees (the reply's error text, tend's log) and that supervision
// goes on: a respawning job killed in the middle of the abuse comes back.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/daemon_fixture.hpp"
#include "support/raw_control_client.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::ProcessResult;
using test::RawClient;
using ::testing::HasSubstr;
using ::testing::Not;

using Clock = std::chrono::steady_clock;

constexpr std::size_t kLimit = 1048576;  // control::kMaxRequestBytes, as a user reads it
const std::string kTooLong =
    "request too long: the limit is " + std::to_string(kLimit) + " bytes per line";

std::string requestLine(const std::string& command, const std::vector<std::string>& args = {},
                        bool wait = true) {
    return json{{"protocol", 1}, {"command", command}, {"args", args}, {"wait", wait}}.dump() +
           "\n";
}

// Raises this process's open-file limit for one test and puts it back afterwards: tend, and
// the jobs of later tests, inherit it.
class RaisedFileLimit {
  public:
    explicit RaisedFileLimit(rlim_t wanted) {
        ::getrlimit(RLIMIT_NOFILE, &original_);
        rlimit raised = original_;
        raised.rlim_cur = std::max<rlim_t>(raised.rlim_max, wanted);
        // Only root may raise the hard limit; anyone may raise the soft one up to it.
        raised.rlim_max = std::max(raised.rlim_max, raised.rlim_cur);
        if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
            raised.rlim_cur = raised.rlim_max = original_.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &raised);
        }
    }
    ~RaisedFileLimit() { ::setrlimit(RLIMIT_NOFILE, &original_); }
    static rlim_t soft() {
        rlimit now{};
        ::getrlimit(RLIMIT_NOFILE, &now);
        return now.rlim_cur;
    }

  private:
    rlimit original_{};
};

class ControlSocket : public test::TendDaemonTest {
  protected:
    // tend with `sentinel`, a respawning job, running: the proof that supervision goes on.
    ::testing::AssertionResult startTendWithSentinel() {
        writeJob("sentinel",
                 "start on startup\nrespawn\nrespawn limit unlimited\nexec sleep 1000\n");
        if (auto started = startTend(); !started) {
            return started;
        }
        if (!waitFor([&] { return mainPidOf("sentinel") > 0; }, 5s)) {
            return ::testing::AssertionFailure()
                   << "the sentinel did not start: " << statusOf("sentinel");
        }
        return ::testing::AssertionSuccess();
    }

    // Kills the sentinel's main process and expects tend to start a new one promptly.
    void expectSupervisionGoesOn() {
        const pid_t before = mainPidOf("sentinel");
        ASSERT_GT(before, 0) << statusOf("sentinel");
        ASSERT_EQ(::kill(before, SIGKILL), 0);
        pid_t after = 0;
        EXPECT_TRUE(waitFor(
            [&] {
                after = mainPidOf("sentinel");
                return after > 0 && after != before;
            },
            3s))
            << "the sentinel (process " << before
            << ") was not respawned; status now: " << statusOf("sentinel");
    }

    long tendMemoryKb(const std::string& field = "VmRSS:") const {
        const std::string status = readFile("/proc/" + std::to_string(tendPid()) + "/status");
        const auto at = status.find(field);
        return at == std::string::npos ? -1 : std::atol(status.c_str() + at + field.size());
    }

    std::size_t tendDescriptors() const {
        std::error_code ec;
        std::size_t count = 0;
        for (fs::directory_iterator it("/proc/" + std::to_string(tendPid()) + "/fd", ec), end;
             !ec && it != end; it.increment(ec)) {
            ++count;
        }
        return count;
    }

    void expectTendAnswersAndDidNotCrash(pid_t pid) {
        const ProcessResult version = ctl("version");
        EXPECT_EQ(version.exit_code, 0) << version.err;
        EXPECT_THAT(version.out, ::testing::StartsWith("tend "));
        EXPECT_EQ(tendPid(), pid);
        EXPECT_TRUE(processAlive(pid));
        EXPECT_THAT(tendLog(), Not(HasSubstr("] critical: ")));
        EXPECT_THAT(tendLog(), Not(HasSubstr("] error: ")));
    }
};

// ---------------------------------------------------------------------------------------------
// Garbage and wrong fields: one clear error each, on a connection that goes on serving.

TEST_F(ControlSocket, TextThatIsNotJsonGetsAnErrorAndTheConnectionServesTheNextRequest) {
    ASSERT_TRUE(startTendWithSentinel());
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    for (const std::string garbage : {"this is not json", "{", "{\"protocol\":1,", "\x01\xff\xfe",
                                      "", "   ", "{\"protocol\":1}}", "'single'"}) {
        const auto reply = client.exchange(garbage + "\n");
        ASSERT_TRUE(reply) << "no reply to '" << garbage << "': " << client.error();
        EXPECT_EQ((*reply)["ok"], false) << *reply;
        EXPECT_EQ((*reply)["code"], "bad-request") << *reply;
        EXPECT_THAT((*reply)["error"].get<std::string>(), HasSubstr("not valid JSON"))
            << "for '" << garbage << "'";
    }
    const auto reply = client.exchange(requestLine("status", {"sentinel"}));
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ((*reply)["ok"], true) << *reply;
    EXPECT_THAT((*reply)["output"].get<std::string>(), HasSubstr("sentinel start/running"));
    expectSupervisionGoesOn();
}

// `"options":{"data":false}` leaves the JSON form out of a reply, for that request only: a
// client that prints text need not read it. Pipelined requests each get what they asked for.
TEST_F(ControlSocket, DataFalseLeavesTheJsonFormOutOfThatReplyOnly) {
    ASSERT_TRUE(startTendWithSentinel());
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    const std::string lean =
        R"({"protocol":1,"command":"list","args":[],"wait":true,"options":{"data":false}})"
        "\n";
    const auto first = client.exchange(lean + requestLine("list", {}));
    ASSERT_TRUE(first) << client.error();
    EXPECT_EQ((*first)["ok"], true) << *first;
    EXPECT_FALSE(first->contains("data")) << *first;
    EXPECT_THAT((*first)["output"].get<std::string>(), HasSubstr("sentinel start/running"));
    const auto second_line = client.readLine();
    ASSERT_TRUE(second_line) << client.error();
    const auto second = nlohmann::json::parse(*second_line);
    ASSERT_TRUE(second.contains("data")) << second;
    EXPECT_EQ(second["data"]["jobs"][0]["job"], "sentinel") << second;
    EXPECT_EQ(ctl("list").out, (*first)["output"].get<std::string>() + "\n");
}

TEST_F(ControlSocket, WrongFieldsGetTheDecodersOwnErrorTexts) {
    ASSERT_TRUE(startTendWithSentinel());
    const std::string no_protocol = "request has no \"protocol\" version; tend speaks protocol 1";
    const std::string args_type = "\"args\" must be an array of strings";
    const std::string no_command = "request has no \"command\" string";
    const struct {
        std::string request;
        std::string code;
        std::string error;
    } cases[] = {
        {R"({"protocol":1,"command":"frobnicate"})", "unknown-command",
         "unknown command 'frobnicate'"},
        {R"({"protocol":1,"command":"status","args":"x"})", "bad-request", args_type},
        {R"({"protocol":1,"command":"status","args":[1]})", "bad-request", args_type},
        {R"({"protocol":1,"command":"status","args":["sentinel",null]})", "bad-request", args_type},
        {R"({"protocol":1,"command":"status","args":{"0":"sentinel"}})", "bad-request", args_type},
        {R"({"protocol":1,"command":"status","args":["sentinel"],"wait":"yes"})", "bad-request",
         "\"wait\" must be true or false"},
        {R"({"protocol":1,"command":"status","wait":1})", "bad-request",
         "\"wait\" must be true or false"},
        {R"({"protocol":1,"command":"list","options":[]})", "bad-request",
         "\"options\" must be an object"},
        {R"({"protocol":1,"command":"list","options":"enumerate"})", "bad-request",
         "\"options\" must be an object"},
        {R"({"protocol":"1","command":"version"})", "protocol", no_protocol},
        {R"({"protocol":1.0,"command":"version"})", "protocol", no_protocol},
        {R"({"protocol":null,"command":"version"})", "protocol", no_protocol},
        {R"({"command":"version"})", "protocol", no_protocol},
        {R"({"protocol":0,"command":"version"})", "protocol",
         "protocol 0 not supported; tend speaks 1"},
        {R"({"protocol":2,"command":"version"})", "protocol",
         "protocol 2 not supported; tend speaks 1"},
        {R"({"protocol":-1,"command":"version"})", "protocol",
         "protocol -1 not supported; tend speaks 1"},
        {R"({"protocol":18446744073709551615,"command":"version"})", "protocol",
         "protocol 18446744073709551615 not supported; tend speaks 1"},
        {R"({"protocol":1})", "bad-request", no_command},
        {R"({"protocol":1,"command":""})", "bad-request", no_command},
        {R"({"protocol":1,"command":["version"]})", "bad-request", no_command},
        {R"([{"protocol":1,"command":"version"}])", "bad-request", "request must be a JSON object"},
        {R"("version")", "bad-request", "request must be a JSON object"},
        {R"(1)", "bad-request", "request must be a JSON object"},
        {R"({"protocol":1,"command":"status","args":[]})", "missing-argument", "missing job name"},
        {R"({"protocol":1,"command":"status","args":["frobnicate"]})", "unknown-job",
         "Unknown job: frobnicate"},
        {R"({"protocol":1,"command":"emit","args":["ev","=x"]})", "bad-environment",
         "Env must be KEY=VALUE pairs"},
        {R"({"protocol":1,"command":"check-config","args":["jobs"]})", "bad-argument",
         "relative path 'jobs' without the option 'cwd'"},
        {R"({"protocol":1,"command":"check-config","options":{"cwd":5}})", "bad-request",
         "option 'cwd' must be an absolute path"},
        {R"({"protocol":1,"command":"check-config","options":{"cwd":"here"}})", "bad-request",
         "option 'cwd' must be an absolute path"},
        {R"({"protocol":1,"command":"check-config","options":{"ignore-events":"a,b"}})",
         "bad-request", "option 'ignore-events' must be a list of events"},
        {R"({"protocol":1,"command":"check-config","options":{"ignore-events":[1]}})",
         "bad-request", "option 'ignore-events' must be a list of events"},
    };
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    for (const auto& each : cases) {
        const auto reply = client.exchange(each.request + "\n");
        ASSERT_TRUE(reply) << "no reply to " << each.request << ": " << client.error();
        EXPECT_EQ(
            *reply,
            (json{{"protocol", 1}, {"ok", false}, {"code", each.code}, {"error", each.error}}))
            << "for " << each.request;
    }
    // Unknown fields are not errors: a newer client's extras must not break an older tend.
    const auto reply =
        client.exchange(R"({"protocol":1,"command":"version","since":"2.0","extra":{"a":[1,2]}})"
                        "\n");
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ((*reply)["ok"], true) << *reply;
    expectSupervisionGoesOn();
}

// Copying or printing a deeply nested JSON value recurses once per level; a request must not
// be able to take tend's stack that way.
TEST_F(ControlSocket, DeeplyNestedRequestIsRefusedAndTendLives) {
    ASSERT_TRUE(startTendWithSentinel());
    const pid_t pid = tendPid();
    constexpr std::size_t kDepth = 200000;
    for (const std::string field : {"options", "extra"}) {
        const std::string nested =
            "{\"a\":" + std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
        RawClient client(socketPath());
        ASSERT_TRUE(client.connected()) << client.error();
        const auto reply = client.exchange(R"({"protocol":1,"command":"version",")" + field +
                                           "\":" + nested + "}\n");
        ASSERT_TRUE(reply) << "no reply about nested " << field << ": " << client.error();
        EXPECT_EQ((*reply)["code"], "bad-request") << *reply;
        EXPECT_EQ((*reply)["error"], "request nests too deeply: the limit is 32 levels") << *reply;
    }
    expectTendAnswersAndDidNotCrash(pid);
    expectSupervisionGoesOn();
}

// ---------------------------------------------------------------------------------------------
// Lines too long: refused at the limit, without tend's memory growing with the line.

TEST_F(ControlSocket, HundredMegabyteLineIsRefusedAndClosedWithMemoryBounded) {
    ASSERT_TRUE(startTendWithSentinel());
    const long rss_before = tendMemoryKb();
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    constexpr std::size_t kTotal = 100u << 20;
    std::string chunk(64 << 10, 'x');
    bool refused = false;
    while (client.sent() < kTotal) {
        if (client.sent() + chunk.size() >= kTotal) {
            chunk.resize(kTotal - client.sent());
            chunk.back() = '\n';
        }
        if (!client.send(chunk)) {
            refused = true;  // tend closed the connection on us, as it should
            break;
        }
    }
    EXPECT_TRUE(refused) << "tend took all " << client.sent() << " bytes";
    EXPECT_LT(client.sent(), 8u << 20) << "tend read far past its limit before closing";
    const auto reply = client.readLine();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(
        json::parse(*reply),
        (json{{"protocol", 1}, {"ok", false}, {"code", "request-too-long"}, {"error", kTooLong}}));
    EXPECT_TRUE(client.hungUp(2s)) << "tend left the connection open";
    const long rss_after = tendMemoryKb();
    RecordProperty("rss_before_kb", std::to_string(rss_before));
    RecordProperty("rss_after_kb", std::to_string(rss_after));
    RecordProperty("rss_peak_kb", std::to_string(tendMemoryKb("VmHWM:")));
    RecordProperty("bytes_taken", std::to_string(client.sent()));
    EXPECT_GT(rss_before, 0);
    EXPECT_LT(rss_after - rss_before, 64 * 1024 + tend::test::kSanitizerRssSlackKb)
        << "RSS grew from " << rss_before << " kB to " << rss_after << " kB";
    expectSupervisionGoesOn();
}

// A client that sends more than a line's worth and then waits: tend answers without waiting
// for a newline that may never come.
TEST_F(ControlSocket, OverlongLineWithoutNewlineIsRefusedWithoutWaitingForItsEnd) {
    ASSERT_TRUE(startTendWithSentinel());
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    client.send(std::string(kLimit + 4096, '{'), 2s);
    const auto reply = client.readLine(2s);
    ASSERT_TRUE(reply) << "no reply while the client waits: " << client.error();
    EXPECT_EQ(json::parse(*reply)["error"], kTooLong);
    EXPECT_TRUE(client.hungUp(2s));
    expectSupervisionGoesOn();
}

// The error says the limit is 1048576 bytes per line, so a line of exactly that many bytes
// (before its newline) is within it.
TEST_F(ControlSocket, RequestOfExactlyTheLimitIsServed) {
    ASSERT_TRUE(startTendWithSentinel());
    for (const std::size_t size : {kLimit - 1, kLimit}) {
        std::string line = requestLine("version");
        line.pop_back();
        line.insert(line.size() - 1, size - line.size(), ' ');  // blanks before the '}'
        ASSERT_EQ(line.size(), size);
        RawClient client(socketPath());
        ASSERT_TRUE(client.connected()) << client.error();
        const auto reply = client.exchange(line + "\n");
        ASSERT_TRUE(reply) << client.error();
        EXPECT_EQ((*reply)["ok"], true) << "a " << size << "-byte line: " << *reply;
    }
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    client.send(std::string(kLimit + 1, ' ') + "\n", 2s);
    const auto reply = client.readLine();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(json::parse(*reply)["error"], kTooLong);
}

// ---------------------------------------------------------------------------------------------
// Clients that go away at the wrong moment.

TEST_F(ControlSocket, ClientsThatVanishMidRequestLeaveTendAnsweringAndLeakNothing) {
    writeJob("slow", "exec sleep 1000\npost-start exec sleep 0.2\npre-stop exec sleep 0.1\n");
    ASSERT_TRUE(startTendWithSentinel());
    const pid_t pid = tendPid();
    const std::size_t descriptors = tendDescriptors();
    for (int i = 0; i < 200; ++i) {
        {
            RawClient silent(socketPath());  // connects, says nothing, goes
            ASSERT_TRUE(silent.connected()) << silent.error();
        }
        {
            RawClient half(socketPath());
            ASSERT_TRUE(half.connected()) << half.error();
            half.send(R"({"protocol":1,"command":"sta)");
        }
        {
            RawClient impatient(socketPath());
            ASSERT_TRUE(impatient.connected()) << impatient.error();
            impatient.send(requestLine(i % 2 ? "list" : "status", {"sentinel"}));
        }
    }
    // A waiting start and stop whose clients have gone by the time the job gets there.
    for (int i = 0; i < 3; ++i) {
        for (const char* command : {"start", "stop"}) {
            {
                RawClient gone(socketPath());
                ASSERT_TRUE(gone.connected()) << gone.error();
                gone.send(requestLine(command, {"slow"}));
            }
            const std::string want =
                command == std::string("start") ? "start/running, process" : "stop/waiting";
            EXPECT_THAT(waitForStatus("slow", want, 3s), HasSubstr(want));
        }
    }
    expectSupervisionGoesOn();
    expectTendAnswersAndDidNotCrash(pid);
    // Every connection tend accepted has been closed again.
    std::size_t now = 0;
    EXPECT_TRUE(waitFor([&] { return (now = tendDescriptors()) <= descriptors; }, 2s))
        << "tend holds " << now << " descriptors; it held " << descriptors << " before";
}

// A client that sends a waiting request and then half-closes (as `socat` does at the end of
// its input) still reads the answer.
TEST_F(ControlSocket, ClientThatHalfClosesAfterAWaitingRequestStillGetsTheReply) {
    writeJob("slow", "exec sleep 1000\npost-start exec sleep 0.2\n");
    ASSERT_TRUE(startTendWithSentinel());
    RawClient client(socketPath());
    ASSERT_TRUE(client.connected()) << client.error();
    ASSERT_TRUE(client.send(requestLine("start", {"slow"})));
    ::shutdown(client.fd(), SHUT_WR);
    const auto reply = client.readLine(3s);
    ASSERT_TRUE(reply) << "no reply after half-close: " << client.error();
    EXPECT_EQ(json::parse(*reply)["ok"], true) << *reply;
    EXPECT_THAT(json::parse(*reply)["output"].get<std::string>(),
                HasSubstr("slow start/running, process"));
}

// ---------------------------------------------------------------------------------------------
// A client that never reads: tend stops queueing replies for it and serves everyone else.

TEST_F(ControlSocket, ClientThatNeverReadsIsDroppedAndOthersAreAnsweredPromptly) {
    for (int i = 0; i < 300; ++i) {
        writeJob("job" + std::to_string(1000 + i), "exec sleep 1000\n");
    }
    ASSERT_TRUE(startTendWithSentinel());
    const pid_t pid = tendPid();
    const long rss_before = tendMemoryKb();
    const std::size_t descriptors = tendDescriptors();
    RawClient greedy(socketPath());
    ASSERT_TRUE(greedy.connected()) << greedy.error();
    std::string batch;
    for (int i = 0; i < 100; ++i) {
        batch += requestLine("list");
    }
    auto slowest = Clock::duration::zero();
    const auto deadline = Clock::now() + 10s;
    while (!greedy.hungUp(0ms) && Clock::now() < deadline) {
        if (!greedy.send(batch, 1s)) {
            break;
        }
        // Another client, meanwhile, gets its answer at once.
        const auto start = Clock::now();
        RawClient other(socketPath());
        const auto reply = other.exchange(requestLine("version"));
        slowest = std::max(slowest, Clock::now() - start);
        ASSERT_TRUE(reply) << other.error();
        EXPECT_EQ((*reply)["ok"], true) << *reply;
    }
    EXPECT_TRUE(greedy.hungUp(2s)) << "tend kept a client that read nothing";
    EXPECT_TRUE(waitForFile(tend_log_, "dropping a control client that does not read its replies"))
        << tendLog();
    EXPECT_EQ(countOf(tendLog(), "dropping a control client"), 1u);
    EXPECT_LT(slowest, 500ms) << "another client waited "
                              << std::chrono::duration_cast<Millis>(slowest).count() << " ms";
    RecordProperty("greedy_bytes_sent", std::to_string(greedy.sent()));
    RecordProperty(
        "slowest_other_client_us",
        std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(slowest).count()));
    greedy.close();
    expectSupervisionGoesOn();
    expectTendAnswersAndDidNotCrash(pid);
    std::size_t now = 0;
    EXPECT_TRUE(waitFor([&] { return (now = tendDescriptors()) <= descriptors; }, 2s))
        << "tend holds " << now << " descriptors; it held " << descriptors << " before";
    const long rss_after = tendMemoryKb();
    RecordProperty("rss_before_kb", std::to_string(rss_before));
    RecordProperty("rss_after_kb", std::to_string(rss_after));
    EXPECT_LT(rss_after - rss_before, 64 * 1024 + tend::test::kSanitizerRssSlackKb)
        << "RSS grew from " << rss_before << " kB to " << rss_after << " kB";
}

// ---------------------------------------------------------------------------------------------
// Many at once.

TEST_F(ControlSocket, ThousandClientsAtOnceAllGetACorrectReply) {
    constexpr std::size_t kClients = 1000;
    const RaisedFileLimit limit(kClients + 256);
    ASSERT_GE(RaisedFileLimit::soft(), kClients + 64) << "cannot open enough sockets";
    ASSERT_TRUE(startTendWithSentinel());
    const pid_t pid = tendPid();
    const ProcessResult version = ctl("version");
    ASSERT_EQ(version.exit_code, 0) << version.err;
    const std::string output = version.out.substr(0, version.out.size() - 1);
    const auto correctReply = [&](const std::string& line) {
        const json reply = json::parse(line);
        return reply["protocol"] == 1 && reply["ok"] == true && reply["output"] == output;
    };

    std::vector<RawClient> clients;
    clients.reserve(kClients);
    for (std::size_t i = 0; i < kClients; ++i) {
        clients.emplace_back(socketPath());
        ASSERT_TRUE(clients.back().connected()) << "client " << i << ": " << clients.back().error();
    }
    const std::string request = requestLine("version");
    for (auto& client : clients) {
        ASSERT_TRUE(client.send(request)) << client.error();
    }
    expectSupervisionGoesOn();

    // Read them all as they come; each answered client lets go of its socket at once, so that
    // a tend with fewer descriptors than clients still gets to the last one.
    std::size_t correct = 0;
    std::size_t answered = 0;
    std::vector<std::string> wrong;
    const auto deadline = Clock::now() + 10s;
    while (answered < kClients && Clock::now() < deadline) {
        std::vector<pollfd> waiting;
        std::vector<RawClient*> owners;
        for (auto& client : clients) {
            if (client.connected()) {
                waiting.push_back({client.fd(), POLLIN, 0});
                owners.push_back(&client);
            }
        }
        if (::poll(waiting.data(), waiting.size(), 100) <= 0) {
            continue;
        }
        for (std::size_t i = 0; i < waiting.size(); ++i) {
            if (waiting[i].revents == 0) {
                continue;
            }
            RawClient& client = *owners[i];
            const bool open = client.readSome();
            if (auto line = client.takeLine()) {
                ++answered;
                if (correctReply(*line)) {
                    ++correct;
                } else if (wrong.size() < 5) {
                    wrong.push_back(*line);
                }
                client.close();
            } else if (!open) {
                ++answered;
                if (wrong.size() < 5) {
                    wrong.push_back("(closed without a reply)");
                }
                client.close();
            }
        }
    }
    EXPECT_EQ(correct, kClients) << answered
                                 << " answered; some wrong: " << ::testing::PrintToString(wrong);
    expectTendAnswersAndDidNotCrash(pid);
}

// ---------------------------------------------------------------------------------------------
// Everything at once, while a respawning job is killed again and again.

TEST_F(ControlSocket, SupervisionGoesOnWhileEveryKindOfAbuseRuns) {
    for (int i = 0; i < 300; ++i) {
        writeJob("job" + std::to_string(1000 + i), "exec sleep 1000\n");
    }
    ASSERT_TRUE(startTendWithSentinel());
    const pid_t pid = tendPid();
    const std::string path = socketPath();
    std::atomic<bool> stop{false};
    std::atomic<int> rounds{0};
    std::atomic<int> unexpected{0};
    const auto loop = [&](auto abuse) {
        return std::thread([&, abuse] {
            while (!stop) {
                if (!abuse()) {
                    ++unexpected;
                }
                ++rounds;
            }
        });
    };
    std::vector<std::thread> abusers;
    abusers.push_back(loop([&] {
        RawClient client(path);
        client.send("\x7f garbage\n");
        const auto line = client.readLine(2s * tend::test::kSanitizerSlowdown);
        return line && line->find("not valid JSON") != std::string::npos;
    }));
    abusers.push_back(loop([&] {
        RawClient client(path);
        client.send(std::string(kLimit + 1, 'x'), 2s * tend::test::kSanitizerSlowdown);
        const auto line = client.readLine(2s * tend::test::kSanitizerSlowdown);
        return line && line->find(kTooLong) != std::string::npos;
    }));
    abusers.push_back(loop([&] {
        RawClient client(path);
        client.send(requestLine("status", {"sentinel"}));
        return client.connected();  // and gone before the reply
    }));
    abusers.push_back(loop([&] {
        RawClient client(path);
        std::string batch;
        for (int i = 0; i < 200; ++i) {
            batch += requestLine("list");
        }
        for (int i = 0; i < 20 && !client.hungUp(0ms); ++i) {
            client.send(batch, 1s);
        }
        return client.hungUp(2s * tend::test::kSanitizerSlowdown);
    }));
    for (int i = 0; i < 3; ++i) {
        expectSupervisionGoesOn();
    }
    const auto start = Clock::now();
    const ProcessResult version = ctl("version");
    const auto took = Clock::now() - start;
    stop = true;
    for (auto& abuser : abusers) {
        abuser.join();
    }
    EXPECT_EQ(version.exit_code, 0) << version.err;
    EXPECT_LT(took, 1s * tend::test::kSanitizerSlowdown);
    EXPECT_GT(rounds, 4);
    EXPECT_EQ(unexpected, 0) << "of " << rounds << " rounds of abuse";
    EXPECT_THAT(tendLog(), HasSubstr("dropping a control client that does not read its replies"));
    expectTendAnswersAndDidNotCrash(pid);
}

// ---------------------------------------------------------------------------------------------
// Another user: with every file permission opened up, SO_PEERCRED alone keeps them out.

class ControlSocketOtherUser : public ControlSocket {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "creating a second user to connect as needs root (CI runs as root); "
                            "as uid "
                         << ::geteuid() << " this test cannot prove the SO_PEERCRED check";
        }
        ControlSocket::SetUp();
    }

    void TearDown() override {
        ControlSocket::TearDown();
        removeTestUser();
    }

    // Named after this process so that a run killed half-way can be told from a live one.
    static constexpr std::string_view kUserPrefix = "tendtest";

    struct TestUser {
        uid_t uid = 0;
        gid_t gid = 0;
    };

    TestUser createTestUser() {
        removeAbandonedTestUsers();
        user_ = std::string(kUserPrefix) + std::to_string(::getpid());
        const ProcessResult made =
            userTool({"/usr/sbin/useradd", "--system", "--no-create-home", "--user-group",
                      "--shell", "/usr/sbin/nologin", user_});
        const passwd* entry = ::getpwnam(user_.c_str());
        if (made.exit_code != 0 || entry == nullptr) {
            ADD_FAILURE() << "useradd " << user_ << " failed: " << made.err;
            return {};
        }
        return {entry->pw_uid, entry->pw_gid};
    }

    void removeTestUser() {
        if (user_.empty()) {
            return;
        }
        deleteUser(user_);
        EXPECT_EQ(::getpwnam(user_.c_str()), nullptr) << "could not remove user " << user_;
        user_.clear();
    }

    // Users left by a test run that was killed before its tear-down.
    static void removeAbandonedTestUsers() {
        std::vector<std::string> abandoned;
        ::setpwent();
        while (const passwd* entry = ::getpwent()) {
            const std::string_view name = entry->pw_name;
            if (!name.starts_with(kUserPrefix)) {
                continue;
            }
            const std::string digits(name.substr(kUserPrefix.size()));
            if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
                ::kill(static_cast<pid_t>(std::stol(digits)), 0) != 0 && errno == ESRCH) {
                abandoned.emplace_back(name);
            }
        }
        ::endpwent();
        for (const auto& name : abandoned) {
            deleteUser(name);
        }
    }

    static void deleteUser(const std::string& name) {
        userTool({"/usr/sbin/userdel", name});
        if (::getgrnam(name.c_str()) != nullptr) {
            userTool({"/usr/sbin/groupdel", name});
        }
    }

    // useradd and friends fail at once when another one holds /etc/passwd's lock, as a test
    // running in parallel may.
    static ProcessResult userTool(const std::vector<std::string>& argv) {
        ProcessResult result;
        waitFor(
            [&] {
                result = test::runProcess(argv);
                return result.exit_code == 0 || result.err.find("lock") == std::string::npos;
            },
            5s, 50ms);
        return result;
    }

    // tend's runtime directory is 0700 and its socket 0600; opens both (and the tree above
    // them) so that nothing but tend's own check stands in the other user's way. tendctl is
    // copied out of the build tree, which the other user may not be able to reach.
    void openToOtherUsers() {
        ASSERT_EQ(::chmod(root_.c_str(), 0711), 0);
        ASSERT_EQ(::chmod(run_dir_.c_str(), 0711), 0);
        ASSERT_EQ(::chmod(socketPath().c_str(), 0666), 0);
        fs::copy_file(TENDCTL_BIN, copiedTendctl());
        fs::permissions(copiedTendctl(), fs::perms(0755));
    }

    fs::path copiedTendctl() const { return root_ / "tendctl"; }

    // Runs tendctl as `user` with tend frozen until that tendctl has sent its request and waits
    // for the answer. tendctl gives up when its send fails, without reading what tend said, so
    // a refusal that reached the socket before the request would be lost (as "lost the
    // connection to tend: Broken pipe"); this test is about the refusal, so it orders the two.
    ProcessResult tendctlAs(const TestUser& user, const std::string& command,
                            const std::string& job) {
        const std::vector<std::string> argv{"/usr/bin/setpriv",
                                            "--reuid=" + std::to_string(user.uid),
                                            "--regid=" + std::to_string(user.gid),
                                            "--clear-groups",
                                            copiedTendctl().string(),
                                            "--socket",
                                            socketPath(),
                                            command,
                                            job};
        const pid_t tend = tendPid();
        ::kill(tend, SIGSTOP);
        struct Thaw {
            pid_t pid;
            ~Thaw() { ::kill(pid, SIGCONT); }
        } thaw{tend};
        ProcessResult result;
        std::thread run([&] { result = test::runProcess(argv); });
        const std::string reading = std::to_string(SYS_read) + " ";
        const bool waiting = waitFor([&] {
            for (pid_t pid : allPids()) {
                if (commandLine(pid).starts_with(copiedTendctl().string() + " ") &&
                    readFile("/proc/" + std::to_string(pid) + "/syscall").starts_with(reading)) {
                    return true;
                }
            }
            return false;
        });
        ::kill(tend, SIGCONT);
        run.join();
        EXPECT_TRUE(waiting) << "tendctl did not get to wait for tend's answer";
        return result;
    }

    std::string user_;  // created by this test, removed at tear-down
};

TEST_F(ControlSocketOtherUser, IsRefusedByPeerCredentialsAloneAndToldWhy) {
    writeJob("private", "exec sleep 1000\n");
    ASSERT_TRUE(startTendWithSentinel());
    const TestUser other = createTestUser();
    ASSERT_GT(other.uid, 0u);
    openToOtherUsers();

    const std::string refusal =
        "tendctl: permission denied: this tend belongs to uid 0 and accepts only that user\n";
    const ProcessResult status = tendctlAs(other, "status", "private");
    EXPECT_EQ(status.exit_code, 1);
    EXPECT_EQ(status.err, refusal);
    EXPECT_EQ(status.out, "");
    const ProcessResult start = tendctlAs(other, "start", "private");
    EXPECT_EQ(start.exit_code, 1);
    EXPECT_EQ(start.err, refusal);
    EXPECT_EQ(statusOf("private"), "private stop/waiting\n");
    const std::string logged =
        "refused a control connection from uid " + std::to_string(other.uid) + " (pid ";
    EXPECT_TRUE(waitFor([&] { return countOf(tendLog(), logged) == 2; })) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("only uid 0 may control this tend"));
    expectSupervisionGoesOn();
}

// The other half of the ordering above: a refused client that writes after tend has closed
// gets EPIPE, and tend's refusal still waits in its socket to be read. A client that reads
// after a failed send can always tell its user why.
TEST_F(ControlSocketOtherUser, RefusalStaysReadableForAClientThatWritesAfterIt) {
    ASSERT_TRUE(startTendWithSentinel());
    const TestUser other = createTestUser();
    ASSERT_GT(other.uid, 0u);
    openToOtherUsers();

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = socketPath();
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const std::string request = requestLine("start", {"sentinel"});
    int report[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Only system calls from here on, as the other user.
        ::close(report[0]);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(other.gid, other.gid, other.gid) != 0 ||
            ::setresuid(other.uid, other.uid, other.uid) != 0) {
            ::_exit(2);
        }
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::_exit(3);
        }
        pollfd closed{fd, POLLRDHUP, 0};
        if (::poll(&closed, 1, 5000) != 1) {
            ::_exit(4);
        }
        const int send_error =
            ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0 ? errno : 0;
        char reply[1024];
        const ssize_t n = ::read(fd, reply, sizeof reply);
        (void)!::write(report[1], &send_error, sizeof send_error);
        if (n > 0) {
            (void)!::write(report[1], reply, static_cast<std::size_t>(n));
        }
        ::_exit(0);
    }
    ::close(report[1]);
    std::string reported;
    char buffer[1024];
    for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno != EINTR) {
            break;
        }
        reported.append(buffer, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    }
    ::close(report[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the client failed: " << status;
    ASSERT_GE(reported.size(), sizeof(int));
    int send_error = 0;
    std::memcpy(&send_error, reported.data(), sizeof send_error);
    EXPECT_EQ(send_error, EPIPE) << std::strerror(send_error);
    const json refusal{
        {"protocol", 1},
        {"ok", false},
        {"code", "permission-denied"},
        {"error", "permission denied: this tend belongs to uid 0 and accepts only that user"}};
    EXPECT_EQ(reported.substr(sizeof(int)), refusal.dump() + "\n");
    expectSupervisionGoesOn();
}

}  // namespace
}  // namespace tend
