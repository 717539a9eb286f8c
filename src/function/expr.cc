#include "function/expr.h"

#include <fmt/format.h>

#include "base/status.h"

namespace eddy {

namespace {

class ColumnRef final : public BoundExpr {
 public:
  ColumnRef(int index, DataType t, std::string name)
      : BoundExpr(t), index_(index), name_(std::move(name)) {}
  absl::Status Eval(const Batch& in, EvalContext*, Column* out) const override {
    const Column& c = in.columns[index_];
    out->valid.insert(out->valid.end(), c.valid.begin(), c.valid.end());
    switch (c.type.physical()) {
      case Physical::kInt64:
        out->i64.insert(out->i64.end(), c.i64.begin(), c.i64.end());
        break;
      case Physical::kDouble:
        out->f64.insert(out->f64.end(), c.f64.begin(), c.f64.end());
        break;
      case Physical::kString:
        out->str.insert(out->str.end(), c.str.begin(), c.str.end());
        break;
    }
    return absl::OkStatus();
  }
  std::string ToString() const override {
    return name_.empty() ? fmt::format("${}", index_) : name_;
  }
  int column_index() const override { return index_; }
  BoundExprPtr WithChildren(std::vector<BoundExprPtr>) const override {
    return std::make_shared<ColumnRef>(*this);
  }

 private:
  int index_;
  std::string name_;
};

class Literal final : public BoundExpr {
 public:
  explicit Literal(Value v) : BoundExpr(v.type), v_(std::move(v)) {}
  absl::Status Eval(const Batch& in, EvalContext* ctx, Column* out) const override {
    size_t n = in.num_rows();
    out->valid.insert(out->valid.end(), n, v_.is_null ? 0 : 1);
    switch (type_.physical()) {
      case Physical::kInt64:
        out->i64.insert(out->i64.end(), n, v_.i);
        break;
      case Physical::kDouble:
        out->f64.insert(out->f64.end(), n, v_.d);
        break;
      case Physical::kString: {
        std::string_view s = n > 0 && !v_.is_null ? ctx->arena->Add(v_.s) : std::string_view();
        out->str.insert(out->str.end(), n, s);
        break;
      }
    }
    return absl::OkStatus();
  }
  std::string ToString() const override {
    if (v_.is_null) return "NULL";
    if (type_.is_string()) return fmt::format("'{}'", v_.s);
    return FormatValue(v_);
  }
  const Value* literal() const override { return &v_; }
  BoundExprPtr WithChildren(std::vector<BoundExprPtr>) const override {
    return std::make_shared<Literal>(*this);
  }

 private:
  Value v_;
};

class Call final : public BoundExpr {
 public:
  Call(std::string name, ScalarKernel k, DataType t, std::vector<BoundExprPtr> args)
      : BoundExpr(t), name_(std::move(name)), kernel_(std::move(k)), args_(std::move(args)) {}
  absl::Status Eval(const Batch& in, EvalContext* ctx, Column* out) const override {
    std::vector<Column> cols;
    cols.reserve(args_.size());
    std::vector<const Column*> ptrs;
    for (const auto& a : args_) {
      int idx = a->column_index();
      if (idx >= 0) {
        ptrs.push_back(&in.columns[idx]);
        continue;
      }
      cols.emplace_back(a->type());
      cols.back().Reserve(in.num_rows());
      EDDY_RETURN_IF_ERROR(a->Eval(in, ctx, &cols.back()));
      ptrs.push_back(&cols.back());
    }
    return kernel_(ptrs, in.num_rows(), ctx, out);
  }
  std::string ToString() const override {
    std::string s = name_ + "(";
    for (size_t i = 0; i < args_.size(); ++i) s += (i ? ", " : "") + args_[i]->ToString();
    return s + ")";
  }
  std::vector<BoundExprPtr> children() const override { return args_; }
  BoundExprPtr WithChildren(std::vector<BoundExprPtr> c) const override {
    return std::make_shared<Call>(name_, kernel_, type_, std::move(c));
  }
  std::string_view function_name() const override { return name_; }

 private:
  std::string name_;
  ScalarKernel kernel_;
  std::vector<BoundExprPtr> args_;
};

// Evaluates `e` into a fresh column.
absl::Status EvalTo(const BoundExpr& e, const Batch& in, EvalContext* ctx, Column* out) {
  *out = Column(e.type());
  out->Reserve(in.num_rows());
  return e.Eval(in, ctx, out);
}

class AndOr final : public BoundExpr {
 public:
  AndOr(bool is_and, std::vector<BoundExprPtr> args)
      : BoundExpr(DataType::Boolean()), is_and_(is_and), args_(std::move(args)) {}
  absl::Status Eval(const Batch& in, EvalContext* ctx, Column* out) const override {
    size_t n = in.num_rows();
    // Per row: state 0 = FALSE, 1 = TRUE, 2 = NULL. Start with the identity (TRUE for AND).
    std::vector<uint8_t> st(n, is_and_ ? 1 : 0);
    Column c;
    for (const auto& a : args_) {
      EDDY_RETURN_IF_ERROR(EvalTo(*a, in, ctx, &c));
      for (size_t i = 0; i < n; ++i) {
        uint8_t v = c.valid[i] ? (c.i64[i] ? 1 : 0) : 2;
        if (is_and_) {
          if (st[i] == 0 || v == 0)
            st[i] = 0;
          else if (v == 2)
            st[i] = 2;
        } else {
          if (st[i] == 1 || v == 1)
            st[i] = 1;
          else if (v == 2)
            st[i] = 2;
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      out->valid.push_back(st[i] != 2);
      out->i64.push_back(st[i] == 1);
    }
    return absl::OkStatus();
  }
  std::string ToString() const override {
    std::string s = "(";
    for (size_t i = 0; i < args_.size(); ++i) {
      s += (i ? (is_and_ ? " AND " : " OR ") : "") + args_[i]->ToString();
    }
    return s + ")";
  }
  std::vector<BoundExprPtr> children() const override { return args_; }
  BoundExprPtr WithChildren(std::vector<BoundExprPtr> c) const override {
    return std::make_shared<AndOr>(is_and_, std::move(c));
  }
  std::string_view function_name() const override { return is_and_ ? "AND" : "OR"; }

 private:
  bool is_and_;
  std::vector<BoundExprPtr> args_;
};

class CaseExpr final : public BoundExpr {
 public:
  CaseExpr(std::vector<BoundExprPtr> conds, std::vector<BoundExprPtr> values, BoundExprPtr els,
           DataType t)
      : BoundExpr(t), conds_(std::move(conds)), values_(std::move(values)), else_(std::move(els)) {}
  absl::Status Eval(const Batch& in, EvalContext* ctx, Column* out) const override {
    size_t n = in.num_rows();
    std::vector<int> pick(n, -1);  // branch index per row, -1 = ELSE
    Column c;
    for (size_t b = 0; b < conds_.size(); ++b) {
      EDDY_RETURN_IF_ERROR(EvalTo(*conds_[b], in, ctx, &c));
      for (size_t i = 0; i < n; ++i) {
        if (pick[i] < 0 && c.valid[i] && c.i64[i]) pick[i] = static_cast<int>(b);
      }
    }
    std::vector<Column> vals(values_.size());
    for (size_t b = 0; b < values_.size(); ++b) {
      EDDY_RETURN_IF_ERROR(EvalTo(*values_[b], in, ctx, &vals[b]));
    }
    Column ev;
    if (else_) EDDY_RETURN_IF_ERROR(EvalTo(*else_, in, ctx, &ev));
    for (size_t i = 0; i < n; ++i) {
      if (pick[i] >= 0) {
        out->AppendFrom(vals[pick[i]], i);
      } else if (else_) {
        out->AppendFrom(ev, i);
      } else {
        out->AppendNull();
      }
    }
    return absl::OkStatus();
  }
  std::string ToString() const override {
    std::string s = "CASE";
    for (size_t i = 0; i < conds_.size(); ++i) {
      s += fmt::format(" WHEN {} THEN {}", conds_[i]->ToString(), values_[i]->ToString());
    }
    if (else_) s += " ELSE " + else_->ToString();
    return s + " END";
  }
  // Operands: the conditions, the values, then the ELSE value when there is one.
  std::vector<BoundExprPtr> children() const override {
    std::vector<BoundExprPtr> c = conds_;
    c.insert(c.end(), values_.begin(), values_.end());
    if (else_) c.push_back(else_);
    return c;
  }
  BoundExprPtr WithChildren(std::vector<BoundExprPtr> c) const override {
    size_t n = conds_.size();
    std::vector<BoundExprPtr> conds(c.begin(), c.begin() + n),
        values(c.begin() + n, c.begin() + 2 * n);
    BoundExprPtr els = else_ ? c[2 * n] : nullptr;
    return std::make_shared<CaseExpr>(std::move(conds), std::move(values), std::move(els), type_);
  }
  std::string_view function_name() const override { return "CASE"; }

 private:
  std::vector<BoundExprPtr> conds_, values_;
  BoundExprPtr else_;
};

}  // namespace

BoundExprPtr MakeColumnRef(int index, DataType type, std::string name) {
  return std::make_shared<ColumnRef>(index, type, std::move(name));
}
BoundExprPtr MakeLiteral(Value v) { return std::make_shared<Literal>(std::move(v)); }
BoundExprPtr MakeCall(std::string name, ScalarKernel kernel, DataType result,
                      std::vector<BoundExprPtr> args) {
  return std::make_shared<Call>(std::move(name), std::move(kernel), result, std::move(args));
}
BoundExprPtr MakeAnd(std::vector<BoundExprPtr> args) {
  return std::make_shared<AndOr>(true, std::move(args));
}
BoundExprPtr MakeOr(std::vector<BoundExprPtr> args) {
  return std::make_shared<AndOr>(false, std::move(args));
}
BoundExprPtr MakeCase(std::vector<BoundExprPtr> conds, std::vector<BoundExprPtr> values,
                      BoundExprPtr else_value, DataType t) {
  return std::make_shared<CaseExpr>(std::move(conds), std::move(values), std::move(else_value), t);
}

absl::StatusOr<Value> EvalConstant(const BoundExpr& e) {
  Batch b;
  b.kinds.push_back(RowKind::kInsert);
  Arena* arena = b.NewArena();
  EvalContext ctx;
  ctx.arena = arena;
  Column out(e.type());
  EDDY_RETURN_IF_ERROR(e.Eval(b, &ctx, &out));
  return Value::FromColumn(out, 0);
}

}  // namespace eddy
