// compiler/ir/TypeRules.h — dtype promotion and broadcasting: the rules shared by sema (which
// reports user errors) and the verifier (which checks that every pass kept them).
#pragma once

#include "compiler/ir/Graph.h"

#include <optional>
#include <span>

namespace xpr::ir {

/// NumPy's result_type of two array dtypes (docs/semantics.md, "Types and promotion").
DType promote(DType a, DType b);

/// The result dtype of `op` applied to operands of the given (already promoted where the
/// op's rule promotes) dtypes, per the op's TypeRule; nullopt if the rule rejects them.
/// For Cast the result is an attribute and this returns nullopt.
std::optional<DType> result_dtype(Op op, std::span<const DType> operand_dtypes);

/// NumPy broadcasting of two shapes under Dim's rules (a symbol never broadcasts; a fixed 1
/// does). nullopt if they cannot broadcast.
std::optional<std::vector<Dim>> broadcast(const std::vector<Dim> &a, const std::vector<Dim> &b);

/// The shape of a reduction over sorted unique `axes` of `in`.
std::vector<Dim> reduced_shape(const std::vector<Dim> &in, std::span<const int> axes,
                               bool keepdims);

} // namespace xpr::ir
