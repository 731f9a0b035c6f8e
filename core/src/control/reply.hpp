// SPDX-License-Identifier: MIT
// How a command answers: a connected client, the reply sender that honours the request's
// options, and the result a command run elsewhere (a plugin's) hands back.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/json_writer.hpp"
#include "control/protocol.hpp"

namespace tend::control {

// Who is at the other end of a connection, as SO_PEERCRED told when it connected.
struct Peer {
    unsigned uid = 0;
    int pid = 0;
};

// One connected client as the commands see it: replies, progress and monitor lines go out
// through send(), in order.
class Client {
  public:
    virtual ~Client() = default;
    virtual void send(const nlohmann::json& message) = 0;
    // One message already encoded as a protocol line (encodeLine's form, newline included); a
    // client that keeps messages as values reads it back.
    virtual void sendLine(std::string line) { send(nlohmann::json::parse(line)); }
    virtual Peer peer() const { return {}; }
    // Ends the connection once everything sent so far has gone out; `sent` runs then, or as
    // soon as the client has gone, whichever comes first.
    virtual void closeWhenSent(std::function<void()> sent) { sent(); }
    // The connection's socket, for a re-exec to hand to the next tend; -1 for none.
    virtual int descriptor() { return -1; }
};

// Holds the client until the answer is out: a client that half-closes its side after a
// request that waits (`start`) still gets the reply, and one that has truly gone costs a
// failed write.
//
// A request with `"options":{"data":false}` gets its reply without `data`: a client that prints
// the text (tendctl without --json) need not read and parse the JSON form as well, which for
// `list` with 1,000 jobs is most of the reply and most of the client's time.
struct Replier {
    std::shared_ptr<Client> client;
    bool omit_data = false;
    Replier(std::shared_ptr<Client> to, const Request& request);
    void operator()(const nlohmann::json& message) const;
    // okReply(output, data) written straight into its line: `writeData(JsonWriter&)` writes the
    // data's value, and is not called when the client asked for none.
    template <class WriteData>
    void ok(std::string_view output, WriteData&& writeData) const {
        std::string line;
        line.reserve(256);
        JsonWriter out(line);
        out.beginObject();
        if (!omit_data) {
            out.key("data");
            writeData(out);
        }
        out.field("ok", true).field("output", output).field("protocol", kProtocolVersion);
        out.endObject();
        line.push_back('\n');
        client->sendLine(std::move(line));
    }
};

// A command's answer when it comes from outside the server (a plugin): `text` is the output,
// or the error when not `ok`.
struct CommandResult {
    bool ok = true;
    std::string text;
    nlohmann::json data = nlohmann::json::object();
};

// A boolean option of the request, false when absent.
bool flag(const Request& request, const char* name);

}  // namespace tend::control
