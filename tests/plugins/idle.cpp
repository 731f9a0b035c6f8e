// SPDX-License-Identifier: MIT
// Loaded, doing nothing: what idle plugins cost. By default it is subscribed to every event and
// job change (the worst case); with `setting subscribe none` in its .conf it is shaped like a
// bridge waiting for something to happen: it follows job classes and serves a command.
// Built once per IDLE_NAME, so that several can be loaded side by side (bench/plugin_bench.cpp).
#include <tend/plugin/plugin.hpp>

#ifndef IDLE_NAME
#define IDLE_NAME "idle"
#endif
#ifndef IDLE_REQUIRES
#define IDLE_REQUIRES ""  // built as cycle_a and cycle_b, each requiring the other
#endif

namespace {

using namespace tend::plugin;

class Idle final : public Plugin {
  public:
    explicit Idle(PluginHost& host) : host_(host) {}
    void start() override {
        if (host_.setting("subscribe", "all") == "all") {
            events_ = host_.onEvent([](const EventView&) {});
            jobs_ = host_.onJobChange([](const JobChange&) {});
        } else {
            classes_ = host_.onJobClass([](ClassChange, const JobClassView&) {});
            command_ = host_.addCommand(IDLE_NAME "-status", [](const std::vector<std::string>&) {
                return CommandReply{};
            });
        }
    }

  private:
    PluginHost& host_;
    Registration events_;
    Registration jobs_;
    Registration classes_;
    Registration command_;
};

std::unique_ptr<Plugin> make(PluginHost& host) {
    return std::make_unique<Idle>(host);
}

}  // namespace

TEND_PLUGIN(IDLE_NAME, "1.0", IDLE_REQUIRES, "", "", make)
