// SPDX-License-Identifier: MIT
// The host's provenance calls: values set with their origin, where a value came from, and how
// a running main process's environment has drifted from the global table.
#include "plugin/plugin_host.hpp"

namespace tend::plugin {

std::string PluginManager::Host::setEnvironmentFrom(const EnvironmentOrigin& origin,
                                                    const std::vector<std::string>& entries,
                                                    bool retain, std::string_view job,
                                                    std::string_view instance) {
    std::string error;
    dispatch::Job* running = job.empty() ? nullptr : instanceOf(job, instance, error);
    if (!job.empty() && !running) {
        return error;
    }
    dispatch::VariableOrigin recorded{
        origin.kind, origin.detail, origin.job, origin.instance, origin.pid, {}, {}};
    if (recorded.kind.empty()) {
        recorded.kind = "plugin";
        recorded.detail = std::string(pluginName());
    }
    return manager_.supervisor_.setEnvironment(running, entries, retain, std::move(recorded));
}

std::optional<EnvironmentOrigin> PluginManager::Host::environmentOrigin(
    std::string_view name, std::string_view job, std::string_view instance) const {
    std::string error;
    const dispatch::Job* running = job.empty() ? nullptr : instanceOf(job, instance, error);
    if (!job.empty() && !running) {
        return std::nullopt;
    }
    const auto found = manager_.supervisor_.environmentOrigin(running, name);
    if (!found) {
        return std::nullopt;
    }
    return EnvironmentOrigin{found->kind,     found->detail, found->job,
                             found->instance, found->pid,    found->time};
}

std::optional<std::vector<std::string>> PluginManager::Host::environmentDrift(
    std::string_view job, std::string_view instance) const {
    std::string error;
    const dispatch::Job* running = instanceOf(job, instance, error);
    if (!running) {
        return std::nullopt;
    }
    return manager_.supervisor_.environmentDrift(*running);
}

}  // namespace tend::plugin
