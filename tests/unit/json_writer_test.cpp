// SPDX-License-Identifier: MIT
// The direct JSON writer that status, list and start replies are written with: its text is what
// the protocol's encoder makes of the same value, byte for byte, and a reply's data says what
// the job's state is.
#include <gtest/gtest.h>

#include <string>

#include "control/job_json.hpp"
#include "control/json_writer.hpp"
#include "control/protocol.hpp"
#include "control/reply.hpp"
#include "support/supervisor_fixture.hpp"

namespace tend::test {
namespace {

using control::JsonWriter;
using json = nlohmann::json;

std::string written(const std::string& text) {
    std::string out;
    JsonWriter(out).string(text);
    return out;
}

std::string encoded(const json& value) {
    std::string line = control::encodeLine(value);
    line.pop_back();
    return line;
}

TEST(JsonWriter, EveryAsciiCharacterIsEscapedAsTheEncoderEscapesIt) {
    for (int c = 0; c < 0x80; ++c) {
        const std::string text = "a" + std::string(1, static_cast<char>(c)) + "b";
        EXPECT_EQ(written(text), encoded(text)) << "character " << c;
    }
}

TEST(JsonWriter, Utf8ValidOrNotIsWrittenAsTheEncoderWritesIt) {
    for (const std::string text : {"caf\xc3\xa9", "\xe2\x82\xac 5", "\xff\xfe", "ok\xc3",
                                   "\xed\xa0\x80", "\xf0\x9f\x98\x80!"}) {
        EXPECT_EQ(written(text), encoded(text));
        EXPECT_FALSE(json::parse(written(text), nullptr, false).is_discarded());
    }
}

TEST(JsonWriter, NestedValuesNumbersAndBooleansMatchTheEncoder) {
    std::string out;
    JsonWriter w(out);
    w.beginObject()
        .key("a")
        .beginArray()
        .number(-9223372036854775807LL - 1)
        .number(0)
        .beginObject()
        .endObject()
        .beginArray()
        .endArray()
        .boolean(false)
        .endArray()
        .field("b", true)
        .field("c", "x")
        .endObject();
    const json same{
        {"a", json::array({-9223372036854775807LL - 1, 0, json::object(), json::array(), false})},
        {"b", true},
        {"c", "x"}};
    EXPECT_EQ(out, encoded(same));
}

// A client that keeps the lines it is sent.
class LineClient : public control::Client {
  public:
    void send(const json& message) override { lines.push_back(control::encodeLine(message)); }
    void sendLine(std::string line) override { lines.push_back(std::move(line)); }
    std::vector<std::string> lines;
};

control::Request statusRequest(bool data) {
    control::Request request;
    request.command = "status";
    if (!data) {
        request.options["data"] = false;
    }
    return request;
}

TEST_F(SupervisorTest, AStatusReplyWrittenDirectlyCarriesTheJobsStateAndProcesses) {
    addJob("svc", "respawn\nrespawn delay 5\nexec sleep 100\n");
    ASSERT_TRUE(start("svc").ok);
    const pid_t pid = lastPid();
    const auto client = std::make_shared<LineClient>();
    const control::Replier reply(client, statusRequest(true));
    const auto* entry = supervisor_->findClass("svc");
    reply.ok(supervisor_->statusOfClass(*entry),
             [&](JsonWriter& out) { control::writeClass(out, *entry, supervisor_.get()); });
    ASSERT_EQ(client->lines.size(), 1u);
    ASSERT_EQ(client->lines.back().back(), '\n');
    const json message = json::parse(client->lines.back());
    EXPECT_EQ(message, (json{{"protocol", 1},
                             {"ok", true},
                             {"output", "svc start/running, process " + std::to_string(pid)},
                             {"data",
                              {{"job", "svc"},
                               {"instances",
                                {{{"job", "svc"},
                                  {"instance", ""},
                                  {"goal", "start"},
                                  {"state", "running"},
                                  {"processes", {{{"process", "main"}, {"pid", pid}}}},
                                  {"respawns", 0}}}}}}}));
    // The same bytes the tree's encoder writes, so no client sees the order of keys change.
    EXPECT_EQ(client->lines.back(), control::encodeLine(message));

    // Killed and waiting out its respawn delay: the reply says so.
    killedBy(pid, SIGKILL);
    reply.ok(supervisor_->statusOfClass(*entry),
             [&](JsonWriter& out) { control::writeClass(out, *entry, supervisor_.get()); });
    const json respawning = json::parse(client->lines.back());
    const json& instance = respawning["data"]["instances"][0];
    EXPECT_EQ(instance["goal"], "respawn");
    EXPECT_EQ(instance["respawns"], 1);
    EXPECT_TRUE(instance.contains("respawn_delay_ms")) << instance.dump();
    EXPECT_EQ(instance["processes"], json::array());
    EXPECT_EQ(client->lines.back(), control::encodeLine(respawning));
}

TEST_F(SupervisorTest, AStatusReplyWithoutDataNeverWritesIt) {
    addJob("svc", "exec sleep 100\n");
    ASSERT_TRUE(start("svc").ok);
    const auto client = std::make_shared<LineClient>();
    const control::Replier reply(client, statusRequest(false));
    bool wrote = false;
    reply.ok("svc start/running", [&](JsonWriter&) { wrote = true; });
    EXPECT_FALSE(wrote);
    EXPECT_EQ(client->lines.back(), R"({"ok":true,"output":"svc start/running","protocol":1})"
                                    "\n");
}

}  // namespace
}  // namespace tend::test
