// SPDX-License-Identifier: MIT
// Character-level pieces shared by the job-file and event-expression grammars. Nothing skips
// implicitly: every grammar is run with x3::parse and spells out where blanks may go, because
// newlines end a stanza except inside parentheses, quotes and continuations.
#pragma once

#include "config.hpp"

namespace tend::grammar::parser::lexeme {

const auto blank = x3::lit(' ') | x3::lit('\t') | x3::lit('\r');
const auto newline = x3::lit('\n');
const auto continuation = x3::lit('\\') >> newline;
const auto gap = *(blank | continuation);   // optional space inside a line
const auto gap1 = +(blank | continuation);  // required space between tokens
const auto comment = x3::omit[x3::lit('#') >> *(x3::char_ - '\n')];

// Quotes group text (newlines included); a backslash inside them escapes one character.
const auto quoted = (x3::lit('"') >> *((x3::lit('\\') >> x3::char_) | ~x3::char_('"')) >> '"') |
                    (x3::lit('\'') >> *((x3::lit('\\') >> x3::char_) | ~x3::char_('\'')) >> '\'');
const auto escape = x3::lit('\\') >> (x3::char_ - '\n');

// A word ends at whitespace, a comment, a parenthesis or the end of the input.
const auto word_end = !(~x3::char_(" \t\r\n#()"));

}  // namespace tend::grammar::parser::lexeme
