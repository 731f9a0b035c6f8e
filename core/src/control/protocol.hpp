// SPDX-License-Identifier: MIT
// The control protocol: JSON, one object per line, over a Unix stream socket.
//
//   request  {"protocol":1,"command":"start","args":["imapfilter","K=V"],"wait":true}
//   reply    {"protocol":1,"ok":true,"output":"imapfilter start/running, process 3459",
//             "data":{...}}
//            {"protocol":1,"ok":false,"code":"unknown-job","error":"Unknown job: imapfilter"}
//
// Every request names the protocol version it speaks; a tend that does not speak it answers
// with an error that says which version it does. `output` is what tendctl prints; `data` is the
// same answer for scripts, with the field names docs/control.md lists. Command names and field
// names are never reused for something else.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace tend::control {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxRequestBytes = 1 << 20;
// Arrays and objects inside one another; tendctl sends two. Copying, comparing or printing
// a JSON value recurses once per level, so a deeper one could take the daemon's stack.
inline constexpr std::size_t kMaxRequestDepth = 32;

// Where a session's tend keeps its control socket: $XDG_RUNTIME_DIR/tend for a session without
// a display, $XDG_RUNTIME_DIR/tend/display-D for the desktop on X display D (":0" and ":0.0"
// are one display), as there is one tend per user and display. Empty without XDG_RUNTIME_DIR.
std::string sessionRuntimeDir(std::string_view display);

// $TEND_SESSION; else $UPSTART_SESSION's path; else, in $XDG_RUNTIME_DIR, the socket of the
// tend for $DISPLAY, of the tend without a display, or (from outside any desktop: ssh, a text
// console) of the only desktop tend there is, whichever is found first. Empty when
// XDG_RUNTIME_DIR is not set either.
std::string defaultSocketPath();

struct Request {
    std::string command;
    std::vector<std::string> args;
    bool wait = true;
    nlohmann::json options = nlohmann::json::object();  // command flags, e.g. {"enumerate":true}
};

// A request that could not be decoded: a stable code for scripts and a message for people.
struct RequestError {
    std::string code;
    std::string message;
};

// Decodes one request line (without its newline). Never throws.
std::variant<Request, RequestError> decodeRequest(std::string_view line);

nlohmann::json okReply(std::string output, nlohmann::json data = nullptr);
nlohmann::json errorReply(std::string code, std::string message);
// The stable code for one of tend's error texts ("Unknown job: x" -> "unknown-job").
std::string errorCodeFor(std::string_view message);

// Serialises one reply or stream message as a protocol line: invalid UTF-8 from job output or
// file names is replaced rather than thrown on.
std::string encodeLine(const nlohmann::json& message);

}  // namespace tend::control
