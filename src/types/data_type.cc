#include "types/data_type.h"

#include <strings.h>

#include "absl/strings/str_cat.h"

namespace eddy {

Physical DataType::physical() const {
  switch (id) {
    case TypeId::kDouble:
      return Physical::kDouble;
    case TypeId::kString:
      return Physical::kString;
    default:
      return Physical::kInt64;
  }
}

bool DataType::is_numeric() const {
  return id == TypeId::kInt || id == TypeId::kBigint || id == TypeId::kDouble ||
         id == TypeId::kDecimal;
}

std::string DataType::ToString(bool with_nullability) const {
  std::string s;
  switch (id) {
    case TypeId::kNull:
      s = "NULL";
      break;
    case TypeId::kBoolean:
      s = "BOOLEAN";
      break;
    case TypeId::kInt:
      s = "INT";
      break;
    case TypeId::kBigint:
      s = "BIGINT";
      break;
    case TypeId::kDouble:
      s = "DOUBLE";
      break;
    case TypeId::kDecimal:
      s = absl::StrCat("DECIMAL(", precision, ", ", scale, ")");
      break;
    case TypeId::kString:
      s = length < 0 ? "STRING" : absl::StrCat("VARCHAR(", length, ")");
      break;
    case TypeId::kTimestamp:
      s = absl::StrCat("TIMESTAMP(", precision, ")");
      break;
    case TypeId::kTimestampLtz:
      s = absl::StrCat("TIMESTAMP_LTZ(", precision, ")");
      break;
    case TypeId::kDate:
      s = "DATE";
      break;
    case TypeId::kIntervalDayTime:
      s = "INTERVAL DAY TO SECOND";
      break;
    case TypeId::kIntervalYearMonth:
      s = "INTERVAL YEAR TO MONTH";
      break;
  }
  if (time_attr == TimeAttr::kRowtime) s += " *ROWTIME*";
  if (time_attr == TimeAttr::kProctime) s += " *PROCTIME*";
  if (with_nullability && !nullable) s += " NOT NULL";
  return s;
}

int Schema::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (strcasecmp(fields[i].name.c_str(), name.c_str()) == 0) return static_cast<int>(i);
  }
  return -1;
}

int64_t Pow10(int n) {
  static constexpr int64_t kP[] = {1LL,
                                   10LL,
                                   100LL,
                                   1000LL,
                                   10000LL,
                                   100000LL,
                                   1000000LL,
                                   10000000LL,
                                   100000000LL,
                                   1000000000LL,
                                   10000000000LL,
                                   100000000000LL,
                                   1000000000000LL,
                                   10000000000000LL,
                                   100000000000000LL,
                                   1000000000000000LL,
                                   10000000000000000LL,
                                   100000000000000000LL,
                                   1000000000000000000LL};
  return kP[n < 0 ? 0 : (n > 18 ? 18 : n)];
}

}  // namespace eddy
