// SPDX-License-Identifier: MIT
// Loaded and subscribed to everything, doing nothing: what idle plugins cost.
#include <tend/plugin/plugin.hpp>

namespace {

using namespace tend::plugin;

class Idle final : public Plugin {
  public:
    explicit Idle(PluginHost& host) : host_(host) {}
    void start() override {
        events_ = host_.onEvent([](const EventView&) {});
        jobs_ = host_.onJobChange([](const JobChange&) {});
    }

  private:
    PluginHost& host_;
    Registration events_;
    Registration jobs_;
};

std::unique_ptr<Plugin> make(PluginHost& host) {
    return std::make_unique<Idle>(host);
}

}  // namespace

TEND_PLUGIN("idle", "1.0", "", "", "", make)
