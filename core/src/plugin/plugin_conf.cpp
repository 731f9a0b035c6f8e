// SPDX-License-Identifier: MIT
#include "plugin/plugin_conf.hpp"

#include "conf/job_loader.hpp"
#include "conf/stanza_registry.hpp"

namespace tend::plugin {

namespace fs = std::filesystem;

PluginConf readPluginConf(const fs::path& path, const std::string& name) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return {};
    }
    std::vector<grammar::Diagnostic> problems;
    const auto source = conf::readSource(path, problems);
    PluginConf conf = source ? parsePluginConf(*source, name) : PluginConf{};
    for (const auto& d : problems) {
        conf.problems.push_back(d.format());
        conf.unread = conf.unread || d.transient;
    }
    return conf;
}

PluginConf parsePluginConf(const grammar::SourceText& source, const std::string& name) {
    PluginConf conf;
    conf::StanzaRegistry registry;
    registry.add("enable", "plugins", [&](conf::StanzaContext& c) {
        if (c.expectArgs(0, 0, "")) {
            conf.enabled = true;
        }
    });
    registry.add("disable", "plugins", [&](conf::StanzaContext& c) {
        if (c.expectArgs(0, 0, "")) {
            conf.enabled = false;
        }
    });
    registry.add("setting", "plugins", [&](conf::StanzaContext& c) {
        if (!c.expectSomeArgs(0, "a setting name and its value")) {
            return;
        }
        std::string value;
        for (std::size_t i = 1; i < c.argCount(); ++i) {
            value += (i > 1 ? " " : "") + c.arg(i).text;
        }
        conf.settings[c.arg(0).text] = value;
    });
    const auto result = conf::loadJob(name, source, nullptr, registry);
    for (const auto& d : result.diagnostics) {
        conf.problems.push_back(d.format());
    }
    return conf;
}

}  // namespace tend::plugin
