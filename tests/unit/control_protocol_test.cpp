// SPDX-License-Identifier: MIT
// The control protocol's request decoder on hostile lines: each gets an error with a stable code
// and a message that names the mistake, never a crash or a misleading text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "control/protocol.hpp"

namespace tend {
namespace {

using control::decodeRequest;
using control::Request;
using control::RequestError;

RequestError errorFor(const std::string& line) {
    const auto decoded = decodeRequest(line);
    if (const auto* error = std::get_if<RequestError>(&decoded)) {
        return *error;
    }
    ADD_FAILURE() << "decoded without an error: " << line;
    return {};
}

Request requestFor(const std::string& line) {
    const auto decoded = decodeRequest(line);
    if (const auto* request = std::get_if<Request>(&decoded)) {
        return *request;
    }
    ADD_FAILURE() << "refused: " << std::get<RequestError>(decoded).message << "\n  " << line;
    return {};
}

std::string nestedOptions(std::size_t depth) {
    // The options object itself is one level, inside the request's own.
    return R"({"protocol":1,"command":"list","options":{"a":)" + std::string(depth - 2, '[') +
           std::string(depth - 2, ']') + "}}";
}

// Copying the options out of the parsed request recursed once per level: 200,000 levels took
// the daemon's stack and killed tend.
TEST(ControlProtocol, DeeplyNestedOptionsAreRefusedInsteadOfOverflowingTheStack) {
    const RequestError error = errorFor(nestedOptions(200000));
    EXPECT_EQ(error.code, "bad-request");
    EXPECT_EQ(error.message, "request nests too deeply: the limit is 32 levels");
}

TEST(ControlProtocol, NestingUpToTheLimitIsAccepted) {
    EXPECT_EQ(requestFor(nestedOptions(control::kMaxRequestDepth)).command, "list");
    EXPECT_EQ(errorFor(nestedOptions(control::kMaxRequestDepth + 1)).message,
              "request nests too deeply: the limit is 32 levels");
}

TEST(ControlProtocol, BracketsAndEscapedQuotesInStringsAreNotNesting) {
    const std::string brackets(1000, '[');
    const Request request = requestFor(R"({"protocol":1,"command":"status","args":[")" + brackets +
                                       R"(\"[{\\",")" + brackets + R"("]})");
    ASSERT_EQ(request.args.size(), 2u);
    EXPECT_EQ(request.args[0], brackets + "\"[{\\");
    EXPECT_EQ(request.args[1], brackets);
}

// nlohmann::json keeps a number above LLONG_MAX as unsigned; read as long long it turned into
// "protocol -1 not supported".
TEST(ControlProtocol, UnsupportedProtocolIsNamedAsTheClientWroteIt) {
    const RequestError error = errorFor(R"({"protocol":18446744073709551615,"command":"list"})");
    EXPECT_EQ(error.code, "protocol");
    EXPECT_EQ(error.message, "protocol 18446744073709551615 not supported; tend speaks 1");
    EXPECT_EQ(errorFor(R"({"protocol":-3,"command":"list"})").message,
              "protocol -3 not supported; tend speaks 1");
}

TEST(ControlProtocol, InvalidUtf8InAReplyIsReplacedNotThrown) {
    const std::string line = control::encodeLine(control::okReply("caf\xC3 \xFF"));
    EXPECT_EQ(line, "{\"ok\":true,\"output\":\"caf\xEF\xBF\xBD \xEF\xBF\xBD\",\"protocol\":1}\n");
}

}  // namespace
}  // namespace tend
