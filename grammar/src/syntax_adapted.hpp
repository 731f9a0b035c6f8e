// SPDX-License-Identifier: MIT
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "syntax.hpp"

BOOST_FUSION_ADAPT_STRUCT(tend::grammar::syntax::Match, name, args)
BOOST_FUSION_ADAPT_STRUCT(tend::grammar::syntax::OpTerm, op, operand)
BOOST_FUSION_ADAPT_STRUCT(tend::grammar::syntax::Condition, first, rest)
BOOST_FUSION_ADAPT_STRUCT(tend::grammar::syntax::OnStanza, keyword, condition)
BOOST_FUSION_ADAPT_STRUCT(tend::grammar::syntax::BlockStanza, header, body, terminated)
BOOST_FUSION_ADAPT_STRUCT(tend::grammar::syntax::PlainStanza, keyword, args)
