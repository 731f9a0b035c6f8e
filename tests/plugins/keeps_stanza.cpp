// SPDX-License-Identifier: MIT
// Adds the stanza `motto WORD` and keeps its registration where the plugin's own destruction
// never reaches (a heap object nobody frees), as a careless plugin might: the stanza's check is
// this library's code, so the host itself must retire the stanza before the library goes.
#include <tend/plugin/plugin.hpp>

namespace {

using namespace tend::plugin;

class KeepsStanza final : public Plugin {
  public:
    explicit KeepsStanza(PluginHost& host) : host_(host) {}
    void start() override {
        // Deliberately never deleted.
        new Registration(host_.addStanza("motto", [](const std::vector<std::string>& args) {
            return args.size() == 1 ? std::string() : std::string("takes exactly one word");
        }));
    }

  private:
    PluginHost& host_;
};

std::unique_ptr<Plugin> make(PluginHost& host) {
    return std::make_unique<KeepsStanza>(host);
}

}  // namespace

TEND_PLUGIN("keeps_stanza", "1.0", "", "", "", make)
