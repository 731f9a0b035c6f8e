// SPDX-License-Identifier: MIT
// The canonical printer: a JobClass as job-file text in a fixed stanza order, fully bracketed
// conditions and 4-space script indentation. Parsing the output gives an equal JobClass; this
// is what `show-config` prints.
#pragma once

#include <string>

#include "model/job_class.hpp"

namespace tend::conf {

std::string printJobClass(const model::JobClass& job);

}  // namespace tend::conf
