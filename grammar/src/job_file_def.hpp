// SPDX-License-Identifier: MIT
// The job-file language, one stanza at a time:
//
//   stanza := on-stanza | block-stanza | plain-stanza
//   on     := ("start" | "stop") "on" condition            (see event_expr_def.hpp)
//   block  := ("script" | WORD "script") NL line* "end script"
//   plain  := KEYWORD token* NL
//
// Tokens follow libnih: quotes group text and may sit mid-token, a backslash escapes one
// character, `\`+newline continues the line and `#` starts a comment anywhere outside quotes.
// Keywords are never dequoted. Inside a script block nothing is interpreted; only a line that is
// exactly `end script` (blanks and a comment allowed) ends it.
#pragma once

#include "event_expr_grammar.hpp"
#include "job_file_grammar.hpp"
#include "lexeme.hpp"
#include "syntax_adapted.hpp"

namespace tend::grammar::parser {

const x3::rule<class keyword_class, syntax::Range> keyword = "stanza keyword";
const x3::rule<class token_class, syntax::Range> token = "argument";
const x3::rule<class line_end_class> line_end = "end of line";
const x3::rule<class on_line_end_class> on_line_end = "'and', 'or' or end of line";
const x3::rule<class on_keyword_class, syntax::Range> on_keyword = "'start on' or 'stop on'";
const x3::rule<class on_stanza_class, syntax::OnStanza> on_stanza = "condition stanza";
const x3::rule<class block_header_class, syntax::Range> block_header = "script header";
const x3::rule<class block_body_class, syntax::Range> block_body = "script body";
const x3::rule<class block_stanza_class, syntax::BlockStanza> block_stanza = "script stanza";
const x3::rule<class plain_stanza_class, syntax::PlainStanza> plain_stanza = "stanza";
const stanza_type stanza_rule = "stanza";

const auto plain_char = ~x3::char_(" \t\r\n#\"'\\");
const auto word = +~x3::char_(" \t\r\n#");
const auto block_end = *lexeme::blank >> x3::lit("end") >> +lexeme::blank >> x3::lit("script") >>
                       *lexeme::blank >> -lexeme::comment >> (lexeme::newline | x3::eoi);
const auto body_line = (+(x3::char_ - '\n') >> -lexeme::newline) | lexeme::newline;

const auto keyword_def = x3::raw[word];
const auto token_def = x3::raw[+(lexeme::quoted | lexeme::escape | plain_char)];
const auto line_end_def = lexeme::gap >> -lexeme::comment >> (lexeme::newline | x3::eoi);
const auto on_line_end_def = line_end_def;
const auto on_keyword_def = x3::raw[(x3::lit("start") | x3::lit("stop")) >> lexeme::gap1 >>
                                    x3::lit("on") >> lexeme::word_end];
const auto on_stanza_def = (on_keyword >> lexeme::gap) > condition() > on_line_end;
// Upstart's stanzas that take values never open a block: `env script`, `exec script` and
// `description script` are a variable, a program and a text called script. Only `script`, the
// four hooks, and keywords outside Upstart's set (plugin stanzas) are followed by a block.
const auto value_keyword =
    (x3::lit("instance") | "description" | "author" | "version" | "env" | "export" | "start" |
     "stop" | "emits" | "exec" | "expect" | "task" | "kill" | "reload" | "respawn" | "normal" |
     "console" | "umask" | "nice" | "oom" | "limit" | "chroot" | "chdir" | "setuid" | "setgid" |
     "debug" | "manual" | "usage" | "apparmor" | "cgroup" | "script") >>
    lexeme::word_end;
const auto block_header_def =
    x3::raw[(x3::lit("script") >> lexeme::word_end) |
            (!value_keyword >> word >> lexeme::gap1 >> x3::lit("script") >> lexeme::word_end)];
const auto header_end = x3::omit[lexeme::gap >> -lexeme::comment >> (lexeme::newline | x3::eoi)];
const auto block_body_def = x3::raw[*(!block_end >> body_line)];
const auto block_stanza_def = block_header >> header_end >> block_body >> x3::matches[block_end];
const auto plain_stanza_def = (keyword >> *(lexeme::gap1 >> token)) > line_end;
const auto stanza_rule_def = on_stanza | block_stanza | plain_stanza;

BOOST_SPIRIT_DEFINE(keyword, token, line_end, on_line_end, on_keyword, on_stanza, block_header,
                    block_body, block_stanza, plain_stanza, stanza_rule)

}  // namespace tend::grammar::parser
