// SPDX-License-Identifier: MIT
// The control protocol: JSON, one object per line, over a Unix stream socket.
//
//   request  {"protocol":1,"command":"start","args":["imapfilter","K=V"],"wait":true}
//   reply    {"protocol":1,"ok":true,"output":"imapfilter start/running, process 3459"}
//            {"protocol":1,"ok":false,"error":"Unknown job: imapfilter"}
//
// Every request names the protocol version it speaks; a tend that does not speak it answers
// with an error that says which version it does. Command names are never reused.
#pragma once

#include <cstddef>
#include <string>

namespace tend::control {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxRequestBytes = 1 << 20;

// $TEND_SESSION, else $XDG_RUNTIME_DIR/tend/control. Empty when neither is set.
std::string defaultSocketPath();

}  // namespace tend::control
