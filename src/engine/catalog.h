// The session catalog: tables (CREATE TABLE) and views (CREATE VIEW), in memory for the life of
// an Engine (Flink SQL: the default in-memory catalog).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sql/ast.h"
#include "types/data_type.h"

namespace eddy {

/// A table declared with CREATE TABLE.
struct TableDef {
  std::string name;
  /// Columns read from the data, in declaration order among physical columns.
  Schema physical;
  /// Every column in declaration order: physical and computed. `computed[i]` is null for a
  /// physical column, else the AST of `name AS expr`.
  std::vector<Field> columns;
  std::vector<sql::ExprPtr> computed;
  int rowtime = -1;             // index in `columns` of the WATERMARK column, -1 when none
  int64_t watermark_delay = 0;  // bounded out-of-orderness, µs
  bool has_watermark = false;
  std::vector<std::string> primary_key;
  std::map<std::string, std::string> options;  // WITH (…), keys lower-case as written
  std::string ddl;                             // the CREATE TABLE text
  /// Per physical column: the metadata key it reads ('timestamp', 'partition', …; Flink SQL:
  /// `col TYPE METADATA [FROM 'key'] [VIRTUAL]`), or "" for a column read from the data.
  std::vector<std::string> metadata;
  /// Per physical column: a VIRTUAL metadata column (read-only: INSERT INTO does not write it).
  std::vector<bool> virtual_column;

  /// The physical columns an INSERT INTO writes: all but VIRTUAL metadata columns.
  Schema Writable() const {
    Schema w;
    for (size_t i = 0; i < physical.fields.size(); ++i) {
      if (i >= virtual_column.size() || !virtual_column[i]) w.fields.push_back(physical.fields[i]);
    }
    return w;
  }
  /// Whether any physical column is a METADATA column.
  bool HasMetadata() const {
    for (const auto& m : metadata) {
      if (!m.empty()) return true;
    }
    return false;
  }

  /// Option value or `def`.
  std::string Option(const std::string& key, const std::string& def = "") const {
    auto it = options.find(key);
    return it == options.end() ? def : it->second;
  }
};

/// A view declared with CREATE [TEMPORARY] VIEW.
struct ViewDef {
  std::string name;
  sql::QueryPtr query;
  std::vector<std::string> column_names;  // optional explicit names
  std::string text;                       // the whole statement, for error positions
};

/// Session configuration (SET/RESET). Keys and defaults are documented in docs/sql-reference.md.
class SessionConfig {
 public:
  SessionConfig();
  void Set(const std::string& key, const std::string& value) { values_[key] = value; }
  void Reset(const std::string& key);
  void ResetAll();
  std::string Get(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  const std::map<std::string, std::string>& values() const { return values_; }
  static const std::map<std::string, std::string>& Defaults();

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace eddy
