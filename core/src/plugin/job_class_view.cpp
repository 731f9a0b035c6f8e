// SPDX-License-Identifier: MIT
#include "plugin/job_class_view.hpp"

namespace tend::plugin {

JobClassView viewOf(const model::JobClass& cls) {
    JobClassView view;
    view.name = cls.name;
    view.stanzas = cls.seldom->plugin_stanzas;
    const auto collect = [&](const std::optional<grammar::EventCondition>& condition, bool stop) {
        if (!condition) {
            return;
        }
        for (const grammar::EventMatch* node : condition->matches()) {
            EventMatch match;
            match.event = node->name;
            match.stop = stop;
            for (const auto& arg : node->args) {
                match.args.push_back({arg.key, arg.value, arg.negated});
            }
            view.matches.push_back(std::move(match));
        }
    };
    collect(cls.start_on, false);
    collect(cls.stop_on, true);
    return view;
}

}  // namespace tend::plugin
