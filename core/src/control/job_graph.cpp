// SPDX-License-Identifier: MIT
#include "control/job_graph.hpp"

#include <set>

#include "conf/match_constraints.hpp"
#include "control/show_config.hpp"

namespace tend::control {

using json = nlohmann::json;
using dispatch::ClassEntry;

using conf::lifecycleJob;

Graph jobGraph(const dispatch::Supervisor& supervisor) {
    std::set<std::string> jobs;
    for (const ClassEntry* entry : supervisor.classes()) {
        jobs.insert(entry->cls->name);
    }
    json nodes = json::array();
    json edges = json::array();
    std::set<std::string> events;
    std::string dot =
        "digraph tend {\n"
        "  rankdir=LR;\n"
        "  node [shape=box, style=rounded];\n";
    const auto quoted = [](const std::string& text) {
        std::string out = "\"";
        for (char c : text) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        return out + "\"";
    };
    const auto eventNode = [&](const std::string& name) {
        if (events.insert(name).second) {
            nodes.push_back({{"id", "event:" + name}, {"kind", "event"}, {"name", name}});
            dot +=
                "  " + quoted("event:" + name) + " [shape=diamond, label=" + quoted(name) + "];\n";
        }
        return "event:" + name;
    };
    const auto edge = [&](const std::string& from, const std::string& to, const std::string& kind,
                          const std::string& label) {
        edges.push_back({{"from", from}, {"to", to}, {"kind", kind}, {"label", label}});
        dot += "  " + quoted(from) + " -> " + quoted(to) + " [label=" + quoted(label) +
               (kind == "stop" ? ", style=dashed, color=red" : "") + "];\n";
    };
    for (const ClassEntry* entry : supervisor.classes()) {
        const model::JobClass& cls = *entry->cls;
        const std::string id = "job:" + cls.name;
        nodes.push_back({{"id", id}, {"kind", "job"}, {"name", cls.name}});
        dot += "  " + quoted(id) + " [label=" + quoted(cls.name) + "];\n";
        for (const auto& emitted : cls.emits) {
            edge(id, eventNode(emitted), "emits", "emits");
        }
        const auto conditionEdges = [&](const std::optional<grammar::EventCondition>& cond,
                                        const std::string& kind) {
            if (!cond) {
                return;
            }
            for (const auto* match : cond->matches()) {
                const std::string label = kind + " on " + matchText(*match);
                if (const auto job = lifecycleJob(*match); job && jobs.contains(*job)) {
                    edge("job:" + *job, id, kind, label);
                } else {
                    edge(eventNode(match->name), id, kind, label);
                }
            }
        };
        conditionEdges(cls.start_on, "start");
        conditionEdges(cls.stop_on, "stop");
    }
    dot += "}";
    return {json{{"nodes", std::move(nodes)}, {"edges", std::move(edges)}}, std::move(dot)};
}

}  // namespace tend::control
