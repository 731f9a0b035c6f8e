// SPDX-License-Identifier: MIT
// A test plugin that counts the `file` events tend handles: `tendctl file-events` answers
// `total=N distinct=M`, M being the number of different MATCH values among them.
#include <tend/plugin/plugin.hpp>

#include <string>
#include <unordered_set>
#include <vector>

namespace {

using namespace tend::plugin;

class FileEventCounter final : public Plugin {
  public:
    explicit FileEventCounter(PluginHost& host) : host_(host) {}

    void start() override {
        registrations_.push_back(host_.onEvent([this](const EventView& event) {
            if (event.name == "file") {
                ++total_;
                matches_.emplace(event.get("MATCH"));
            }
        }));
        registrations_.push_back(host_.addCommand("file-events", [this](const auto&) {
            CommandReply reply;
            reply.text =
                "total=" + std::to_string(total_) + " distinct=" + std::to_string(matches_.size());
            return reply;
        }));
    }

  private:
    PluginHost& host_;
    std::size_t total_ = 0;
    std::unordered_set<std::string> matches_;
    std::vector<Registration> registrations_;
};

std::unique_ptr<Plugin> makeCounter(PluginHost& host) {
    return std::make_unique<FileEventCounter>(host);
}

}  // namespace

TEND_PLUGIN("file_event_counter", "1.0", "", "", "", makeCounter)
