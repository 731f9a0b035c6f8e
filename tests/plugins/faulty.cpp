// SPDX-License-Identifier: MIT
// One source, six faults (chosen at build time): a throw in the factory, in start(), in an
// event callback, a callback that blocks the loop for 150 ms, one that never returns, and a
// segfault.
#include <tend/plugin/plugin.hpp>

#include <csignal>
#include <stdexcept>
#include <thread>

namespace {

#if defined(FAULT_SEGFAULT)
// The first page is never mapped (vm.mmap_min_addr): a store there faults for real. Not null,
// which UBSan's null check would stop first, and read at run time, so no compiler sees it.
int* volatile nowhere = reinterpret_cast<int*>(64);
#endif

using namespace tend::plugin;

#if defined(FAULT_FACTORY)
#define PLUGIN_NAME "throws_in_factory"
#elif defined(FAULT_START)
#define PLUGIN_NAME "throws_in_start"
#elif defined(FAULT_CALLBACK)
#define PLUGIN_NAME "throws_in_callback"
#elif defined(FAULT_SEGFAULT)
#define PLUGIN_NAME "segfault_in_callback"
#elif defined(FAULT_HANG)
#define PLUGIN_NAME "hangs_in_callback"
#else
#define PLUGIN_NAME "slow_callback"
#endif

class Faulty final : public Plugin {
  public:
    explicit Faulty(PluginHost& host) : host_(host) {
#if defined(FAULT_FACTORY)
        throw std::runtime_error("the factory gave up");
#endif
    }
    void start() override {
#if defined(FAULT_START)
        throw std::runtime_error("start() gave up");
#endif
        command_ = host_.addCommand(PLUGIN_NAME, [](const std::vector<std::string>&) {
            return CommandReply{true, PLUGIN_NAME " answers", "{}"};
        });
        events_ = host_.onEvent([](const EventView& event) {
            if (event.name != "fault") {
                return;
            }
#if defined(FAULT_CALLBACK)
            throw std::runtime_error("the callback gave up");
#elif defined(FAULT_SEGFAULT)
            *nowhere = 1;  // a real fault: a store to the first page
#elif defined(FAULT_HANG)
            for (;;) {
                std::this_thread::sleep_for(std::chrono::hours(1));
            }
#else
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
#endif
        });
    }

  private:
    PluginHost& host_;
    Registration command_;
    Registration events_;
};

std::unique_ptr<Plugin> make(PluginHost& host) {
    return std::make_unique<Faulty>(host);
}

}  // namespace

TEND_PLUGIN(PLUGIN_NAME, "1.0", "", "", "", make)
