#include "types/batch.h"

#include <algorithm>

namespace eddy {

const char* RowKindName(RowKind k) {
  switch (k) {
    case RowKind::kInsert:
      return "+I";
    case RowKind::kUpdateBefore:
      return "-U";
    case RowKind::kUpdateAfter:
      return "+U";
    case RowKind::kDelete:
      return "-D";
  }
  return "?";
}

std::string_view Arena::Add(std::string_view s) {
  if (s.empty()) return {};
  char* p = Allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

char* Arena::Allocate(size_t n) {
  if (n > left_) {
    size_t sz = std::max<size_t>(n, 64 * 1024);
    blocks_.push_back(std::make_unique<char[]>(sz));
    cur_ = blocks_.back().get();
    left_ = sz;
    // Keep the newest block at the back but allocate from it; older blocks stay alive.
  }
  char* p = cur_;
  cur_ += n;
  left_ -= n;
  bytes_ += n;
  return p;
}

void Column::Reserve(size_t n) {
  valid.reserve(n);
  switch (type.physical()) {
    case Physical::kInt64:
      i64.reserve(n);
      break;
    case Physical::kDouble:
      f64.reserve(n);
      break;
    case Physical::kString:
      str.reserve(n);
      break;
  }
}

void Column::Resize(size_t n) {
  valid.resize(n, 0);
  switch (type.physical()) {
    case Physical::kInt64:
      i64.resize(n, 0);
      break;
    case Physical::kDouble:
      f64.resize(n, 0.0);
      break;
    case Physical::kString:
      str.resize(n);
      break;
  }
}

void Column::Clear() {
  valid.clear();
  i64.clear();
  f64.clear();
  str.clear();
}

void Column::AppendNull() {
  valid.push_back(0);
  switch (type.physical()) {
    case Physical::kInt64:
      i64.push_back(0);
      break;
    case Physical::kDouble:
      f64.push_back(0.0);
      break;
    case Physical::kString:
      str.emplace_back();
      break;
  }
}

void Column::AppendFrom(const Column& src, size_t i) {
  valid.push_back(src.valid[i]);
  switch (type.physical()) {
    case Physical::kInt64:
      i64.push_back(src.i64[i]);
      break;
    case Physical::kDouble:
      f64.push_back(src.f64[i]);
      break;
    case Physical::kString:
      str.push_back(src.str[i]);
      break;
  }
}

namespace {
template <class T>
void GatherInto(const std::vector<T>& src, const std::vector<uint32_t>& rows, std::vector<T>* out) {
  out->resize(rows.size());
  T* o = out->data();
  for (size_t k = 0; k < rows.size(); ++k) o[k] = src[rows[k]];
}
}  // namespace

Column Column::Gather(const std::vector<uint32_t>& rows) const {
  Column c(type);
  GatherInto(valid, rows, &c.valid);
  switch (type.physical()) {
    case Physical::kInt64:
      GatherInto(i64, rows, &c.i64);
      break;
    case Physical::kDouble:
      GatherInto(f64, rows, &c.f64);
      break;
    case Physical::kString:
      GatherInto(str, rows, &c.str);
      break;
  }
  return c;
}

Batch Batch::Gather(const std::vector<uint32_t>& rows) const {
  Batch b;
  b.columns.reserve(columns.size());
  for (const Column& c : columns) b.columns.push_back(c.Gather(rows));
  GatherInto(kinds, rows, &b.kinds);
  b.arenas = arenas;
  return b;
}

Arena* Batch::NewArena() {
  arenas.push_back(std::make_shared<Arena>());
  return arenas.back().get();
}

Batch Batch::Empty(const Schema& schema) {
  Batch b;
  b.columns.reserve(schema.size());
  for (const auto& f : schema.fields) b.columns.emplace_back(f.type);
  return b;
}

}  // namespace eddy
