// SPDX-License-Identifier: MIT
// libFuzzer target for the control protocol's request decoder, which reads whatever a client
// sends. Beyond "no crash, no sanitizer report, no exception", it checks:
//  - a decoded request, encoded again the way tendctl sends one, decodes to an equal request;
//  - a refused one has a stable code from a fixed set and a message to show;
//  - any bytes, echoed back in a reply, give exactly one line of valid JSON.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "control/protocol.hpp"

namespace {

using json = nlohmann::json;
namespace control = tend::control;

[[noreturn]] void fail(const char* what, std::string_view input) {
    std::fprintf(stderr, "%s\ninput (%zu bytes): %.*s\n", what, input.size(),
                 static_cast<int>(std::min<std::size_t>(input.size(), 4096)), input.data());
    std::abort();
}

bool sameRequest(const control::Request& a, const control::Request& b) {
    return a.command == b.command && a.args == b.args && a.wait == b.wait && a.options == b.options;
}

std::string encodeRequest(const control::Request& request) {
    const json message{{"protocol", control::kProtocolVersion},
                       {"command", request.command},
                       {"args", request.args},
                       {"wait", request.wait},
                       {"options", request.options}};
    // Strict: whatever the decoder accepted must already be valid UTF-8.
    return message.dump();
}

// A reply carrying `text` must be one line of JSON that gives back a string.
void checkReplyLine(const json& reply, std::string_view input) {
    const std::string line = control::encodeLine(reply);
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) {
        fail("a reply is not exactly one line", input);
    }
    const json again =
        json::parse(std::string_view(line).substr(0, line.size() - 1), nullptr, false);
    if (again.is_discarded() || !again.is_object()) {
        fail("a reply line is not a JSON object", input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto decoded = control::decodeRequest(input);
    if (const auto* error = std::get_if<control::RequestError>(&decoded)) {
        if (error->code != "bad-request" && error->code != "protocol" &&
            error->code != "request-too-long") {
            fail(("unexpected error code: " + error->code).c_str(), input);
        }
        if (error->message.empty()) {
            fail("an error without a message", input);
        }
        checkReplyLine(control::errorReply(error->code, error->message), input);
    } else {
        const auto& request = std::get<control::Request>(decoded);
        std::string encoded;
        try {
            encoded = encodeRequest(request);
        } catch (const json::exception& e) {
            fail(e.what(), input);
        }
        const auto again = control::decodeRequest(encoded);
        const auto* same = std::get_if<control::Request>(&again);
        if (same == nullptr) {
            fail(("re-encoded request refused: " + std::get<control::RequestError>(again).message +
                  "\nre-encoded: " + encoded)
                     .c_str(),
                 input);
        }
        if (!sameRequest(*same, request)) {
            fail(("re-encoded request decodes differently: " + encoded).c_str(), input);
        }
    }
    // Job output and file names reach replies as raw bytes, invalid UTF-8 included.
    const std::string raw(input);
    checkReplyLine(control::okReply(raw), input);
    checkReplyLine(control::okReply("", json{{"name", raw}}), input);
    checkReplyLine(control::errorReply("failed", raw), input);
    return 0;
}
