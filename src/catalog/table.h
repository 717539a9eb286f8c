// The definitions of a session's catalog: tables (CREATE TABLE) and views (CREATE VIEW), kept in
// memory for the life of an Engine (Flink SQL: the default in-memory catalog). Shared by the
// binder (src/engine) and the connectors, so it holds no AST: like Flink's CatalogTable and
// CatalogView, computed columns and views are kept as SQL text and parsed again when used.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "types/data_type.h"

namespace eddy {

/// A table declared with CREATE TABLE. Immutable once in the catalog (shared by jobs).
struct TableDef {
  std::string name;
  /// Columns read from the data, in declaration order among physical columns.
  Schema physical;
  /// Every column in declaration order: physical and computed.
  std::vector<Field> columns;
  /// Per column of `columns`: a computed column (`name AS expr`). Its expression is in `ddl`; the
  /// binder parses `ddl` again to bind it (positions relative to `ddl`).
  std::vector<bool> computed;
  int rowtime = -1;             // index in `columns` of the WATERMARK column, -1 when none
  int64_t watermark_delay = 0;  // bounded out-of-orderness, µs
  bool has_watermark = false;
  std::vector<std::string> primary_key;
  /// WITH (…), keys as written (lower case by convention), already checked against the
  /// connector's options (catalog/options.h) when the table was created.
  std::map<std::string, std::string> options;
  std::string ddl;  // the CREATE TABLE statement's text
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

  /// The option's text as written in WITH, or `def` when absent. Typed access with defaults and
  /// checks: catalog::ConfigOption<T>::Get(table.options).
  std::string Option(const std::string& key, const std::string& def = "") const {
    auto it = options.find(key);
    return it == options.end() ? def : it->second;
  }
};

/// A view declared with CREATE [TEMPORARY] VIEW.
struct ViewDef {
  std::string name;
  std::vector<std::string> column_names;  // optional explicit names
  /// The CREATE VIEW statement's text (Flink's CatalogView original query). The binder parses it
  /// again each time the view is used; error positions are relative to it.
  std::string text;
};

}  // namespace eddy
