// SPDX-License-Identifier: MIT
// The plugin docs/plugins.md builds step by step: it greets, counts the jobs it sees start, and
// turns `tendctl emit wave` into a `hello` event.
#include <tend/plugin/plugin.hpp>

#include <string>
#include <vector>

namespace {

using namespace tend::plugin;

class Hello final : public Plugin {
  public:
    explicit Hello(PluginHost& host) : host_(host) {}

    void start() override {
        // `tendctl hello NAME...` answers with a greeting; the greeting word is a setting.
        registrations_.push_back(
            host_.addCommand("hello", [this](const std::vector<std::string>& args) {
                std::string who = args.empty() ? "world" : args.front();
                CommandReply reply;
                reply.text = host_.setting("greeting", "hello") + ", " + who +
                             " (jobs started so far: " + std::to_string(started_) + ")";
                reply.json = "{\"started\":" + std::to_string(started_) + "}";
                return reply;
            }));
        // Count the jobs that reach `running`.
        registrations_.push_back(host_.onJobChange([this](const JobChange& change) {
            if (change.state == "running") {
                ++started_;
            }
        }));
        // A `wave` event becomes a `hello` event, with the same variables.
        registrations_.push_back(host_.onEvent([this](const EventView& event) {
            if (event.name == "wave") {
                host_.emit("hello", *event.env);
            }
        }));
        host_.log(LogLevel::Info, "ready to greet");
    }

  private:
    PluginHost& host_;
    unsigned started_ = 0;
    std::vector<Registration> registrations_;  // dropping them unregisters everything
};

std::unique_ptr<Plugin> makeHello(PluginHost& host) {
    return std::make_unique<Hello>(host);
}

}  // namespace

TEND_PLUGIN("hello", "1.0.0", /*requires*/ "", /*optional*/ "", /*provides*/ "", makeHello)
