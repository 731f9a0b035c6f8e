// SPDX-License-Identifier: MIT
#include "control/show_config.hpp"

#include "conf/match_constraints.hpp"

namespace tend::control {

using json = nlohmann::json;

namespace {

// Upstart's `show-config -e` leaf: `starting (job: A, env: K=V)`.
std::string enumeratedLeaf(const grammar::EventMatch& match) {
    std::string job;
    std::string env;
    for (std::size_t i = 0; i < match.args.size(); ++i) {
        const auto& arg = match.args[i];
        if (conf::isLifecycleEvent(match.name) && i == 0 && arg.positional()) {
            job = arg.value;
            continue;
        }
        env += ' ';
        env += arg.positional() ? arg.value : arg.key + (arg.negated ? "!=" : "=") + arg.value;
    }
    // initctl's "(job:%s%s, env:%s)": a space only before a value.
    return match.name + " (job:" + (job.empty() ? "" : " " + job) + ", env:" + env + ")";
}

// initctl brackets every operator: `(starting a and (b or c var=2))`.
void bracketed(const grammar::EventCondition& condition, std::uint32_t index, std::string& out) {
    const grammar::EventNode& node = condition.node(index);
    if (node.kind == grammar::EventNode::Kind::Match) {
        grammar::EventCondition one;
        one.setRoot(one.addMatch(node.match));
        out += one.toString();
        return;
    }
    out += '(';
    bracketed(condition, node.lhs, out);
    out += node.kind == grammar::EventNode::Kind::And ? " and " : " or ";
    bracketed(condition, node.rhs, out);
    out += ')';
}

}  // namespace

std::string matchText(const grammar::EventMatch& match) {
    grammar::EventCondition one;
    one.setRoot(one.addMatch(match));
    return one.toString();
}

std::string showConfigText(const model::JobClass& cls, bool enumerate) {
    std::string out = cls.name + "\n";
    for (const auto& event : cls.emits) {
        out += "  emits " + event + "\n";
    }
    const auto condition = [&](const char* label,
                               const std::optional<grammar::EventCondition>& cond) {
        if (!cond || cond->empty()) {
            return;
        }
        if (!enumerate) {
            std::string text;
            bracketed(*cond, cond->rootIndex(), text);
            out += std::string("  ") + label + " " + text + "\n";
            return;
        }
        for (const auto* match : cond->matches()) {
            out += std::string("  ") + label + " " + enumeratedLeaf(*match) + "\n";
        }
    };
    condition("start on", cls.start_on);
    condition("stop on", cls.stop_on);
    out.pop_back();
    return out;
}

json showConfigJson(const model::JobClass& cls) {
    const auto condition = [](const std::optional<grammar::EventCondition>& cond) -> json {
        if (!cond || cond->empty()) {
            return nullptr;
        }
        json events = json::array();
        for (const auto* match : cond->matches()) {
            json args = json::array();
            for (const auto& arg : match->args) {
                json item{{"value", arg.value}};
                if (!arg.positional()) {
                    item["key"] = arg.key;
                    item["negated"] = arg.negated;
                }
                args.push_back(std::move(item));
            }
            events.push_back({{"event", match->name}, {"args", std::move(args)}});
        }
        return json{{"expression", cond->toString()}, {"events", std::move(events)}};
    };
    return json{{"job", cls.name},
                {"emits", cls.emits},
                {"start_on", condition(cls.start_on)},
                {"stop_on", condition(cls.stop_on)}};
}

}  // namespace tend::control
