// SPDX-License-Identifier: MIT
// Requires echo and uses its service: it must start after echo, and stop when echo goes.
#include <tend/plugin/plugin.hpp>

#include <stdexcept>

namespace {

using namespace tend::plugin;

class NeedsEcho final : public Plugin {
  public:
    explicit NeedsEcho(PluginHost& host) : host_(host) {}
    void start() override {
        if (!host_.findService("echo")) {
            throw std::runtime_error("the echo service is not there");
        }
        command_ = host_.addCommand("needs-echo", [](const std::vector<std::string>&) {
            return CommandReply{true, "echo is there", "{\"echo\":true}"};
        });
    }

  private:
    PluginHost& host_;
    Registration command_;
};

std::unique_ptr<Plugin> make(PluginHost& host) {
    return std::make_unique<NeedsEcho>(host);
}

}  // namespace

TEND_PLUGIN("needs_echo", "1.0", "echo", "", "", make)
