// SPDX-License-Identifier: MIT
// A job class as plugins see it (tend/plugin/plugin.hpp's JobClassView): its name, its
// plugin stanzas and the events its `start on` and `stop on` match.
#pragma once

#include "model/job_class.hpp"
#include "tend/plugin/plugin.hpp"

namespace tend::plugin {

JobClassView viewOf(const model::JobClass& cls);

}  // namespace tend::plugin
