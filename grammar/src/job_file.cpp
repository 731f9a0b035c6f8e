// SPDX-License-Identifier: MIT
// Instantiates the job-file grammar; nothing else lives here.
#include "job_file_def.hpp"

namespace tend::grammar::parser {

BOOST_SPIRIT_INSTANTIATE(stanza_type, iterator_type, context_type)

const stanza_type& stanza() {
    return stanza_rule;
}

}  // namespace tend::grammar::parser
