// StateSerializer specializations for SQL values (types/value.h): DataType and Value, so state
// holding rows (std::vector<Value>) can be snapshotted.
//
// Encoding: DataType = byte id, int64 precision, int64 scale, int64 length, bool nullable,
// byte time attribute; Value = DataType, bool is_null, then (when not NULL) int64 i, double d,
// string s (all three fields: a Value keeps whatever its producer set).
#pragma once

#include "state/serializer.h"
#include "types/value.h"

namespace eddy::state {

template <>
struct StateSerializer<DataType> {
  static void Write(const DataType& t, StateWriter* w) {
    w->PutByte(static_cast<uint8_t>(t.id));
    w->PutInt64(t.precision);
    w->PutInt64(t.scale);
    w->PutInt64(t.length);
    w->PutBool(t.nullable);
    w->PutByte(static_cast<uint8_t>(t.time_attr));
  }
  static absl::Status Read(StateReader* r, DataType* t) {
    uint8_t id = 0, attr = 0;
    if (absl::Status s = r->GetByte(&id); !s.ok()) return s;
    if (id > static_cast<uint8_t>(TypeId::kIntervalYearMonth)) {
      return StateReader::Corrupt("unknown type id");
    }
    t->id = static_cast<TypeId>(id);
    if (absl::Status s = StateSerializer<int>::Read(r, &t->precision); !s.ok()) return s;
    if (absl::Status s = StateSerializer<int>::Read(r, &t->scale); !s.ok()) return s;
    if (absl::Status s = StateSerializer<int>::Read(r, &t->length); !s.ok()) return s;
    if (absl::Status s = r->GetBool(&t->nullable); !s.ok()) return s;
    if (absl::Status s = r->GetByte(&attr); !s.ok()) return s;
    if (attr > static_cast<uint8_t>(TimeAttr::kProctime)) {
      return StateReader::Corrupt("unknown time attribute");
    }
    t->time_attr = static_cast<TimeAttr>(attr);
    return absl::OkStatus();
  }
};

template <>
struct StateSerializer<Value> {
  static void Write(const Value& v, StateWriter* w) {
    StateSerializer<DataType>::Write(v.type, w);
    w->PutBool(v.is_null);
    if (v.is_null) return;
    w->PutInt64(v.i);
    w->PutDouble(v.d);
    w->PutString(v.s);
  }
  static absl::Status Read(StateReader* r, Value* v) {
    *v = Value();
    if (absl::Status s = StateSerializer<DataType>::Read(r, &v->type); !s.ok()) return s;
    if (absl::Status s = r->GetBool(&v->is_null); !s.ok()) return s;
    if (v->is_null) return absl::OkStatus();
    if (absl::Status s = r->GetInt64(&v->i); !s.ok()) return s;
    if (absl::Status s = r->GetDouble(&v->d); !s.ok()) return s;
    return r->GetString(&v->s);
  }
};

}  // namespace eddy::state
