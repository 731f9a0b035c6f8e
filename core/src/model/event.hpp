// SPDX-License-Identifier: MIT
// Event: a name plus an ordered KEY=VALUE environment.
//
// Progress runs pending -> handling -> finished. An event finishes only when its blockers reach
// zero: a job started by `starting` holds the event until it has settled, so that whoever
// emitted it (a `tendctl emit`, a lifecycle transition) can wait for the consequences. An event
// that fails spawns `<name>/failed`. The queue that drives this lives in dispatch/; this header
// is the value.
#pragma once

#include <cstdint>
#include <string>

#include "model/environment.hpp"

namespace tend::model {

struct Event {
    std::uint64_t id = 0;  // unique per tend process, in emission order
    std::string name;
    Environment env;
};

}  // namespace tend::model
