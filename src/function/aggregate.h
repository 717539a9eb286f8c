// Aggregate functions (Flink SQL: COUNT, SUM, AVG, MIN, MAX, STDDEV_POP, STDDEV_SAMP, VAR_POP,
// VAR_SAMP, with DISTINCT and FILTER). An aggregate keeps a fixed-size state per group that an
// operator stores in its own memory; the function only interprets the bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "types/batch.h"
#include "types/value.h"

namespace eddy {

/// One aggregate function bound to its argument type. Stateless and thread-safe: all mutable
/// data lives in the caller's state bytes (size state_size(), aligned to 8).
class AggregateFunction {
 public:
  virtual ~AggregateFunction() = default;
  const DataType& result_type() const { return result_type_; }
  size_t state_size() const { return state_size_; }
  /// Constructs an empty state in `s`.
  virtual void Init(char* s) const = 0;
  /// Destroys heap parts of a state (strings, DISTINCT sets).
  virtual void Destroy(char* s) const {}
  /// Adds row `i` of `arg` (nullptr for COUNT(*)); NULL arguments are ignored as in SQL.
  virtual void Accumulate(char* s, const Column* arg, size_t i) const = 0;
  /// Removes row `i` (for retractions on updating inputs). Only valid when supports_retract().
  virtual void Retract(char* s, const Column* arg, size_t i) const {}
  virtual bool supports_retract() const { return true; }
  /// Adds the state `src` into `dst` (session window merging).
  virtual void Merge(char* dst, const char* src) const = 0;
  /// The current result (NULL for SUM/AVG/MIN/MAX of no rows, 0 for COUNT).
  virtual Value Result(const char* s) const = 0;
  /// Appends state `s` to `out` for a checkpoint (encoding of state/serializer.h; self-delimiting,
  /// the same on every machine).
  virtual void SerializeState(const char* s, std::string* out) const = 0;
  /// Reads a state written by SerializeState from `*in` (advanced past it) into `s`, which Init
  /// has constructed. Errors: DataLoss on truncated or corrupt input.
  virtual absl::Status DeserializeState(char* s, std::string_view* in) const = 0;
  /// Accumulates rows [0, n) of `arg` into states[i]; rows with mask[i] == 0 are skipped
  /// (mask may be nullptr). The default loops over Accumulate.
  virtual void AccumulateBatch(char* const* states, const Column* arg, const uint8_t* mask,
                               size_t n) const;

 protected:
  DataType result_type_;
  size_t state_size_ = 8;
};

/// Resolves an aggregate by upper-case name for the given argument types (empty for COUNT(*)).
/// `distinct` wraps it so each distinct non-NULL value counts once. Errors: NotFound for an
/// unknown name, InvalidArgument for argument types that do not fit (e.g. SUM(STRING)).
absl::StatusOr<std::shared_ptr<const AggregateFunction>> ResolveAggregate(
    const std::string& name, const std::vector<DataType>& arg_types, bool distinct);

/// Whether `name` (upper case) is an aggregate function.
bool IsAggregateFunction(const std::string& name);

/// Names of all aggregate functions (for SHOW FUNCTIONS and hints).
std::vector<std::string> AggregateFunctionNames();

}  // namespace eddy
