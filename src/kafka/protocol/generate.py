#!/usr/bin/env python3
"""Generates eddy's Kafka protocol codecs from Kafka's JSON message schemata.

Usage: generate.py --schemata DIR --out DIR [--shards N]

Reads every DIR/*.json (Kafka's message definitions, see docs/kafka-protocol.md) and writes into
the output directory:
  messages.h          one struct per message with Decode/Encode, the API table declarations
  messages_<i>.cc     the codecs, split into N files of similar size
  api_table.cc        AllApis(), ApiName(), RequestHeaderVersion(), ResponseHeaderVersion()
  test_fill.inc       FillForTest() per struct and EDDY_KAFKA_FOR_EACH_MESSAGE, for the tests only
Files whose content did not change are not rewritten. Python standard library only.
"""

import argparse
import json
import os
import re
import sys

PRIMITIVES = {
    # schema type: (C++ type, ByteReader/ByteWriter method suffix)
    'int8': ('int8_t', 'Int8'),
    'int16': ('int16_t', 'Int16'),
    'uint16': ('uint16_t', 'Uint16'),
    'int32': ('int32_t', 'Int32'),
    'uint32': ('uint32_t', 'Uint32'),
    'int64': ('int64_t', 'Int64'),
    'float64': ('double', 'Float64'),
    'bool': ('bool', 'Bool'),
    'uuid': ('Uuid', 'Uuid'),
}
INT_TYPES = {'int8': 8, 'int16': 16, 'uint16': 16, 'int32': 32, 'uint32': 32, 'int64': 64}


class SchemaError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# Versions are handled as sets of ints, clipped to the message's valid versions.

def parse_versions(spec, lo, hi, what):
    if spec is None:
        return frozenset()
    spec = str(spec).strip()
    if spec == 'none' or spec == '':
        return frozenset()
    m = re.fullmatch(r'(\d+)\+', spec)
    if m:
        a, b = int(m.group(1)), hi
    else:
        m = re.fullmatch(r'(\d+)-(\d+)', spec)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
        elif re.fullmatch(r'\d+', spec):
            a = b = int(spec)
        else:
            raise SchemaError(f'{what}: bad version range {spec!r}')
    return frozenset(range(max(a, lo), min(b, hi) + 1))


def ranges(versions):
    out = []
    for v in sorted(versions):
        if out and out[-1][1] == v - 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def describe(versions, max_version):
    if not versions:
        return 'none'
    return ', '.join(str(a) if a == b else f'{a}+' if b == max_version else f'{a}-{b}'
                     for a, b in ranges(versions))


def version_cond(s, possible, var='_version'):
    """C++ condition true exactly for the versions of `possible` that are in `s`.

    Returns None when no possible version is in `s`, and 'true' when all are."""
    s = s & possible
    if not s:
        return None
    if s == possible:
        return 'true'
    parts = []
    for a, b in ranges(s):
        lo = any(v < a for v in possible)
        hi = any(v > b for v in possible)
        if a == b and lo and hi:
            parts.append(f'{var} == {a}')
        elif lo and hi:
            parts.append(f'{var} >= {a} && {var} <= {b}')
        elif lo:
            parts.append(f'{var} >= {a}')
        else:
            parts.append(f'{var} <= {b}')
    if len(parts) == 1:
        return parts[0]
    return ' || '.join(f'({p})' if '&&' in p else p for p in parts)


def and_cond(a, b):
    """Conjunction of two C++ conditions ('true' is the identity)."""
    if a == 'true':
        return b
    if b == 'true':
        return a
    wrap = lambda c: f'({c})' if '||' in c or '&&' in c else c
    return f'{wrap(a)} && {wrap(b)}'


# ------------------------------------------------------------------------------------------------
# Schema model

def snake_case(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s)
    return s.lower()


CPP_KEYWORDS = set('''alignas alignof and and_eq asm auto bitand bitor bool break case catch char
char8_t char16_t char32_t class compl concept const consteval constexpr constinit const_cast
continue co_await co_return co_yield decltype default delete do double dynamic_cast else enum
explicit export extern false float for friend goto if inline int long mutable namespace new
noexcept not not_eq nullptr operator or or_eq private protected public register
reinterpret_cast requires return short signed sizeof static static_assert static_cast struct
switch template this thread_local throw true try typedef typeid typename union unsigned using
virtual void volatile wchar_t while xor xor_eq'''.split())
RESERVED_TYPE_NAMES = {'Uuid', 'TaggedField', 'ByteReader', 'ByteWriter', 'TaggedFieldsWriter',
                       'ApiInfo'}


class Type:
    def __init__(self, kind, name=None, elem=None):
        self.kind = kind  # 'prim', 'string', 'bytes', 'records', 'array', 'struct'
        self.name = name  # primitive or struct name
        self.elem = elem  # element Type of an array
        self.struct = None  # resolved StructDef


class Field:
    pass


class StructDef:
    def __init__(self, name, message):
        self.name = name
        self.message = message
        self.fields = []
        self.possible = set()
        self.is_message = False

    @property
    def qual(self):
        if self.is_message:
            return self.name
        return f'{self.message.name}::{self.name}'


class Message:
    pass


def parse_type(type_str, what):
    if type_str.startswith('[]'):
        return Type('array', elem=parse_type(type_str[2:], what))
    if type_str in PRIMITIVES:
        return Type('prim', name=type_str)
    if type_str in ('string', 'bytes', 'records'):
        return Type(type_str)
    if re.fullmatch(r'[A-Z][A-Za-z0-9]*', type_str):
        return Type('struct', name=type_str)
    raise SchemaError(f'{what}: unknown type {type_str!r}')


def strip_comments(text):
    """Removes // comments (Kafka's message definitions have them) outside JSON strings."""
    out, i, in_string = [], 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == '\\':
                out.append(text[i + 1:i + 2])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith('//', i):
            while i < len(text) and text[i] != '\n':
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return ''.join(out)


def load_message(path):
    with open(path, encoding='utf-8') as f:
        try:
            spec = json.loads(strip_comments(f.read()))
        except json.JSONDecodeError as e:
            raise SchemaError(f'{path}: {e}') from e
    msg = Message()
    msg.path = path
    msg.name = spec['name']
    msg.type = spec['type']
    if msg.type not in ('request', 'response', 'header'):
        raise SchemaError(f'{path}: unsupported message type {msg.type!r}')
    msg.api_key = spec.get('apiKey')
    if msg.type != 'header' and msg.api_key is None:
        raise SchemaError(f'{path}: {msg.type} without apiKey')
    m = re.fullmatch(r'(\d+)(?:-(\d+))?', spec['validVersions'].strip())
    if not m:
        raise SchemaError(f'{path}: bad validVersions')
    msg.min_version = int(m.group(1))
    msg.max_version = int(m.group(2) or m.group(1))
    lo, hi = msg.min_version, msg.max_version
    msg.valid = frozenset(range(lo, hi + 1))
    msg.flexible = parse_versions(spec.get('flexibleVersions', 'none'), lo, hi, path)
    flex_lo = sorted(msg.flexible)
    if flex_lo and msg.flexible != frozenset(range(flex_lo[0], hi + 1)):
        raise SchemaError(f'{path}: flexibleVersions must be "N+" or "none"')
    msg.first_flexible = flex_lo[0] if flex_lo else -1
    msg.structs = {}  # name -> StructDef

    def make_struct(name, fields_spec, what):
        if name in msg.structs:
            raise SchemaError(f'{what}: struct {name} defined twice')
        if name in RESERVED_TYPE_NAMES or name == msg.name:
            raise SchemaError(f'{what}: struct name {name} is reserved')
        sd = StructDef(name, msg)
        msg.structs[name] = sd
        sd.fields = [make_field(fs, f'{what}.{fs.get("name")}') for fs in fields_spec]
        return sd

    def make_field(fs, what):
        f = Field()
        f.name = fs['name']
        f.cpp = snake_case(f.name)
        if f.cpp in CPP_KEYWORDS or f.cpp == 'unknown_tagged_fields' or f.cpp.startswith('_'):
            raise SchemaError(f'{what}: field name {f.cpp} is not usable in C++')
        f.type = parse_type(fs['type'], what)
        f.versions = parse_versions(fs.get('versions'), lo, hi, what)
        if 'versions' not in fs:
            raise SchemaError(f'{what}: field without versions')
        f.nullable = parse_versions(fs.get('nullableVersions'), lo, hi, what) & f.versions
        f.nullable_any = 'nullableVersions' in fs
        if f.nullable_any and (f.type.kind == 'prim'):
            raise SchemaError(f'{what}: {fs["type"]} cannot be nullable')
        if f.type.kind == 'records':
            f.nullable_any = True  # always std::optional<std::string>
        f.tag = fs.get('tag')
        f.tagged = frozenset()
        if f.tag is not None:
            if 'taggedVersions' not in fs:
                raise SchemaError(f'{what}: tag without taggedVersions')
            f.tagged = parse_versions(fs['taggedVersions'], lo, hi, what) & f.versions
        elif 'taggedVersions' in fs:
            raise SchemaError(f'{what}: taggedVersions without tag')
        f.regular = f.versions - f.tagged
        if 'flexibleVersions' in fs:
            f.flex = parse_versions(fs['flexibleVersions'], lo, hi, what) & msg.flexible
        else:
            f.flex = msg.flexible
        if f.tagged - msg.flexible:
            raise SchemaError(f'{what}: tagged in a version that is not flexible')
        f.default = fs.get('default')
        f.map_key = bool(fs.get('mapKey'))
        # The struct definition of a struct or struct-array field.
        inner = f.type.elem if f.type.kind == 'array' else f.type
        if 'fields' in fs:
            if inner.kind != 'struct':
                raise SchemaError(f'{what}: nested fields for non-struct type')
            make_struct(inner.name, fs['fields'], what)
        return f

    for cs in spec.get('commonStructs', []):
        make_struct(cs['name'], cs['fields'], f'{path}#{cs["name"]}')
    top = StructDef(msg.name, msg)
    top.is_message = True
    top.fields = [make_field(fs, f'{path}:{fs.get("name")}') for fs in spec['fields']]
    msg.top = top

    # Resolve struct references.
    all_structs = [top] + list(msg.structs.values())
    for sd in all_structs:
        for f in sd.fields:
            inner = f.type.elem if f.type.kind == 'array' else f.type
            if inner.kind == 'array':
                raise SchemaError(f'{path}: {f.name}: arrays of arrays are not supported')
            if inner.kind == 'struct':
                if inner.name not in msg.structs:
                    raise SchemaError(f'{path}: {f.name}: unknown struct {inner.name}')
                inner.struct = msg.structs[inner.name]
            if f.type.kind == 'array' and inner.kind in ('bytes', 'records'):
                raise SchemaError(f'{path}: {f.name}: arrays of {inner.kind} are not supported')

    # Versions in which each struct can be decoded (fixed point: common structs have many uses).
    top.possible = set(msg.valid)
    changed = True
    while changed:
        changed = False
        for sd in all_structs:
            for f in sd.fields:
                inner = f.type.elem if f.type.kind == 'array' else f.type
                if inner.kind == 'struct':
                    add = (f.versions & sd.possible) - inner.struct.possible
                    if add:
                        inner.struct.possible |= add
                        changed = True
    for sd in all_structs:
        sd.possible = frozenset(sd.possible)

    # Nested structs in dependency order (a struct is defined after the structs it uses).
    order, state = [], {}

    def visit(sd, chain):
        if state.get(sd.name) == 'done':
            return
        if state.get(sd.name) == 'busy':
            raise SchemaError(f'{path}: recursive structs: {" -> ".join(chain)}')
        state[sd.name] = 'busy'
        for f in sd.fields:
            inner = f.type.elem if f.type.kind == 'array' else f.type
            if inner.kind == 'struct':
                visit(inner.struct, chain + [inner.name])
        state[sd.name] = 'done'
        order.append(sd)

    for sd in msg.structs.values():
        visit(sd, [sd.name])
    msg.nested = order

    # Tag sanity.
    for sd in all_structs:
        tags = [f.tag for f in sd.fields if f.tag is not None]
        if len(tags) != len(set(tags)):
            raise SchemaError(f'{path}: {sd.name}: duplicate tags')
        names = [f.cpp for f in sd.fields]
        if len(names) != len(set(names)):
            raise SchemaError(f'{path}: {sd.name}: duplicate field names')
    return msg


# ------------------------------------------------------------------------------------------------
# C++ types and defaults

def cpp_value_type(t, qualified):
    if t.kind == 'prim':
        return PRIMITIVES[t.name][0]
    if t.kind in ('string', 'bytes', 'records'):
        return 'std::string'
    if t.kind == 'struct':
        return t.struct.qual if qualified else t.name
    if t.kind == 'array':
        return f'std::vector<{cpp_value_type(t.elem, qualified)}>'
    raise AssertionError(t.kind)


def is_optional(f):
    return f.nullable_any and f.type.kind != 'prim'


def cpp_member_type(f, qualified=False):
    base = cpp_value_type(f.type, qualified)
    return f'std::optional<{base}>' if is_optional(f) else base


def cpp_string_literal(s):
    out = []
    for ch in s.encode('utf-8'):
        c = chr(ch)
        if c in '"\\':
            out.append('\\' + c)
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append(f'\\{ch:03o}')
    return '"' + ''.join(out) + '"'


def int_literal(value, type_name, what):
    bits = INT_TYPES[type_name]
    if isinstance(value, bool):
        raise SchemaError(f'{what}: bad integer default {value!r}')
    v = int(value, 0) if isinstance(value, str) else int(value)
    signed = not type_name.startswith('u')
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not lo <= v <= hi:
        raise SchemaError(f'{what}: default {value!r} out of range for {type_name}')
    if v == lo and signed and bits >= 32:
        return f'{v + 1} - 1' if bits == 32 else f'{v + 1}LL - 1'
    if bits == 64 and not signed:
        return f'{v}ULL'
    if type_name == 'uint32':
        return f'{v}u'
    return str(v)


def default_parts(f, what):
    """(C++ member initializer or None when none is needed, whether the default is null)."""
    d = f.default
    k = f.type.kind
    if k == 'prim':
        n = f.type.name
        if n in INT_TYPES:
            return (int_literal(d if d is not None else 0, n, what), False)
        if n == 'bool':
            if d is None:
                return ('false', False)
            val = d if isinstance(d, bool) else str(d).strip().lower()
            if val in (True, 'true'):
                return ('true', False)
            if val in (False, 'false'):
                return ('false', False)
            raise SchemaError(f'{what}: bad bool default {d!r}')
        if n == 'float64':
            v = float(d) if d is not None else 0.0
            if v != v or v in (float('inf'), float('-inf')):
                raise SchemaError(f'{what}: unsupported float64 default {d!r}')
            return (repr(v), False)
        if n == 'uuid':
            if d not in (None, '', 'AAAAAAAAAAAAAAAAAAAAAA'):
                raise SchemaError(f'{what}: non-zero uuid defaults are not supported')
            return (None, False)
    if d == 'null':
        if not f.nullable_any:
            raise SchemaError(f'{what}: null default for a non-nullable field')
        return (None, True)
    if k in ('string', 'bytes', 'records'):
        s = '' if d is None else str(d)
        if k != 'string' and s:
            raise SchemaError(f'{what}: non-empty default for {k}')
        if is_optional(f):
            return (f'std::string({cpp_string_literal(s)})' if s else 'std::string()', False)
        return (cpp_string_literal(s) if s else None, False)
    if k in ('array', 'struct'):
        if d not in (None, ''):
            raise SchemaError(f'{what}: unsupported default {d!r} for {k}')
        if is_optional(f):
            return (f'{cpp_value_type(f.type, False)}()', False)
        return (None, False)
    raise AssertionError(k)


def differs_from_default(f, expr, what):
    """C++ condition: the field (a tagged field) differs from its default value."""
    init, null_default = default_parts(f, what)
    k = f.type.kind
    if null_default:
        return f'{expr}.has_value()'
    if k == 'prim':
        n = f.type.name
        if n == 'uuid':
            return f'!{expr}.IsZero()'
        if n == 'bool':
            return expr if init == 'false' else f'!{expr}'
        return f'{expr} != {init}'
    if k in ('string', 'bytes', 'records'):
        s = '' if f.default is None else str(f.default)
        if is_optional(f):
            return f'(!{expr} || !{expr}->empty())' if not s else \
                f'(!{expr} || *{expr} != {cpp_string_literal(s)})'
        return f'!{expr}.empty()' if not s else f'{expr} != {cpp_string_literal(s)}'
    if k == 'array':
        return f'(!{expr} || !{expr}->empty())' if is_optional(f) else f'!{expr}.empty()'
    if k == 'struct':
        t = f.type.name
        return f'(!{expr} || *{expr} != {t}())' if is_optional(f) else f'{expr} != {t}()'
    raise AssertionError(k)


# ------------------------------------------------------------------------------------------------
# Code emission helpers

class Out:
    def __init__(self):
        self.lines = []
        self.ind = 0

    def __call__(self, line=''):
        self.lines.append(('  ' * self.ind + line) if line else '')

    def signature(self, head, params):
        """A function definition's first line, wrapped after '(' when longer than 100 columns."""
        if 2 * self.ind + len(head) + len(params) <= 100:
            self(head + params)
        else:
            self(head.rstrip())
            self(' ' * (len(head) - len(head.lstrip())) + '    ' + params)

    def block(self, lines):
        for line in lines:
            self(line)

    def text(self):
        return '\n'.join(self.lines) + '\n'


def indent(lines, n=1):
    return [('  ' * n + l) if l else l for l in lines]


def declares_locals(lines):
    return any(l.startswith(('int32_t _n;', 'int8_t _present;', 'auto& _v')) for l in lines)


def version_chain(versions, possible, f, body):
    """Lines running body(compact, nullable) -> lines for the current version, when it is in
    `versions`; `possible` are the versions the code can run with. Versions whose code is the same
    share a branch."""
    present = frozenset(versions & possible)
    if not present:
        return []
    groups = {}
    for v in sorted(present):
        code = tuple(body(v in f.flex, v in f.nullable))
        groups.setdefault(code, set()).add(v)
    items = sorted(groups.items(), key=lambda kv: min(kv[1]))
    outer = version_cond(present, possible)
    if len(items) == 1:
        inner = list(items[0][0])
        if outer == 'true':
            return ['{'] + indent(inner) + ['}'] if declares_locals(inner) else inner
    else:
        inner = []
        for i, (code, vset) in enumerate(items):
            if i == 0:
                inner.append(f'if ({version_cond(frozenset(vset), present)}) {{')
            elif i == len(items) - 1:
                inner.append('} else {')
            else:
                inner.append(f'}} else if ({version_cond(frozenset(vset), present)}) {{')
            inner += indent(list(code))
        inner.append('}')
        if outer == 'true':
            return inner
    return [f'if ({outer}) {{'] + indent(inner) + ['}']


def rd(method, target, r):
    return f'EDDY_RETURN_IF_ERROR({r}.{method}(&{target}));'


def decode_value(f, t, target, compact, nullable, optional, r):
    """Lines decoding one value of type t into `target` (an lvalue expression)."""
    c = 'Compact' if compact else ''
    if t.kind == 'prim':
        return [rd('Read' + PRIMITIVES[t.name][1], target, r)]
    if t.kind in ('string', 'bytes', 'records'):
        base = 'String' if t.kind == 'string' else 'Bytes'
        if optional and nullable:
            return [rd(f'Read{c}Nullable{base}', target, r)]
        if optional:
            return [rd(f'Read{c}{base}', f'{target}.emplace()', r)]
        return [rd(f'Read{c}{base}', target, r)]
    if t.kind == 'struct':
        if optional and nullable:
            return ['int8_t _present;', rd('ReadInt8', '_present', r),
                    'if (_present < 0) {', f'  {target}.reset();', '} else {',
                    f'  EDDY_RETURN_IF_ERROR({target}.emplace().Decode({r}, _version));', '}']
        if optional:
            return [f'EDDY_RETURN_IF_ERROR({target}.emplace().Decode({r}, _version));']
        return [f'EDDY_RETURN_IF_ERROR({target}.Decode({r}, _version));']
    if t.kind == 'array':
        lines = ['int32_t _n;', rd(f'Read{c}ArrayLength', '_n', r)]
        if optional and nullable:
            lines += ['if (_n < 0) {', f'  {target}.reset();', '} else {']
            body_ind = 1
            lines.append(f'  auto& _v = {target}.emplace();')
        else:
            lines.append(f'if (_n < 0) return NonNullableFieldError("{f.name}");')
            body_ind = 0
            lines.append(f'auto& _v = {target}.emplace();' if optional else f'auto& _v = {target};')
        body = []
        if t.elem.kind == 'prim':
            body.append('_v.reserve(static_cast<size_t>(_n));')
        body.append('for (int32_t _i = 0; _i < _n; ++_i) {')
        body += indent(decode_value(f, t.elem, '_v.emplace_back()', compact, False, False, r))
        body.append('}')
        lines += indent(body, body_ind)
        if optional and nullable:
            lines.append('}')
        return lines
    raise AssertionError(t.kind)


def encode_value(f, t, src, compact, nullable, optional, w):
    """Lines encoding one value of type t from `src` (an expression)."""
    c = 'Compact' if compact else ''
    if optional and not nullable:
        src = f'{w}.NonNull({src}, "{f.name}")'
        optional = False
    if t.kind == 'prim':
        return [f'{w}.Write{PRIMITIVES[t.name][1]}({src});']
    if t.kind in ('string', 'bytes', 'records'):
        base = 'String' if t.kind == 'string' else 'Bytes'
        if optional:
            return [f'{w}.Write{c}Nullable{base}({src});']
        return [f'{w}.Write{c}{base}({src});']
    if t.kind == 'struct':
        if optional:
            return [f'if (!{src}) {{', f'  {w}.WriteInt8(-1);', '} else {',
                    f'  {w}.WriteInt8(1);', f'  {src}->Encode({w}, _version);', '}']
        return [f'{src}.Encode({w}, _version);']
    if t.kind == 'array':
        elem = encode_value(f, t.elem, '_e', compact, False, False, w)
        if optional:
            return [f'if (!{src}) {{', f'  {w}.Write{c}ArrayLength(-1);', '} else {',
                    f'  {w}.Write{c}ArrayLength(static_cast<int32_t>({src}->size()));',
                    f'  for (const auto& _e : *{src}) {{'] + indent(elem, 2) + ['  }', '}']
        return [f'{w}.Write{c}ArrayLength(static_cast<int32_t>({src}.size()));',
                f'for (const auto& _e : {src}) {{'] + indent(elem) + ['}']
    raise AssertionError(t.kind)


def struct_what(sd, f=None):
    return f'{sd.message.path}: {sd.name}' + (f'.{f.name}' if f else '')


# ------------------------------------------------------------------------------------------------
# messages.h

def m_fits(o, decl, comment):
    return 2 * o.ind + len(decl) + 2 + len(comment) <= 100


def emit_struct_decl(o, sd):
    msg = sd.message
    o(f'struct {sd.name} {{')
    o.ind += 1
    if sd.is_message:
        if msg.api_key is not None:
            o(f'static constexpr int16_t kApiKey = {msg.api_key};')
        o(f'static constexpr int16_t kMinVersion = {msg.min_version};')
        o(f'static constexpr int16_t kMaxVersion = {msg.max_version};')
        o(f'static constexpr int16_t kFirstFlexibleVersion = {msg.first_flexible};')
        o()
        for nested in msg.nested:
            emit_struct_decl(o, nested)
            o()
    members = []  # (declaration, comment)
    for f in sd.fields:
        init, _ = default_parts(f, struct_what(sd, f))
        mx = msg.max_version
        notes = [f'v{describe(f.versions, mx)}']
        if f.nullable:
            notes.append(f'nullable v{describe(f.nullable, mx)}')
        if f.tagged:
            notes.append(f'tag {f.tag} v{describe(f.tagged, mx)}')
        if f.flex != msg.flexible:
            notes.append('never compact' if not f.flex else f'compact v{describe(f.flex, mx)}')
        if f.map_key:
            notes.append('map key')
        members.append((f, init, f'{cpp_member_type(f)} {f.cpp}' + (f' = {init};' if init else ';'),
                        f'// {", ".join(notes)}'))
    # Trailing comments aligned per run of lines, as clang-format does; a comment that does not
    # fit on its member's line goes above it and ends the run.
    runs, run = [], []
    for m in members:
        if m_fits(o, m[2], m[3]):
            run.append(m)
        else:
            if run:
                runs.append(run)
            runs.append([m])
            run = []
    if run:
        runs.append(run)
    for run in runs:
        column = max(len(m[2]) for m in run) + 2
        for f, init, decl, comment in run:
            if 2 * o.ind + column + len(comment) <= 100:
                o(decl.ljust(column) + comment)
            elif m_fits(o, decl, comment):
                o(f'{decl}  {comment}')
            else:
                o(comment)
                if init and 2 * o.ind + len(decl) > 100:
                    o(f'{cpp_member_type(f)} {f.cpp} =')
                    o(f'    {init};')
                else:
                    o(decl)
    o('std::vector<TaggedField> unknown_tagged_fields;')
    o()
    o('absl::Status Decode(ByteReader& r, int16_t version);')
    o('void Encode(ByteWriter& w, int16_t version) const;')
    o(f'bool operator==(const {sd.name}&) const = default;')
    o.ind -= 1
    o('};')


def emit_header(messages):
    o = Out()
    o('// Generated by src/kafka/protocol/generate.py from src/kafka/protocol/schemata/*.json.')
    o('// Do not edit: change the generator or the schemata (docs/kafka-protocol.md).')
    o('#pragma once')
    o()
    o('#include <array>')
    o('#include <cstdint>')
    o('#include <optional>')
    o('#include <string>')
    o('#include <vector>')
    o()
    o('#include "absl/status/status.h"')
    o('#include "kafka/protocol/wire.h"')
    o()
    o('namespace eddy::kafka {')
    o()
    o('struct ApiInfo {')
    o('  int16_t key;')
    o('  const char* name;  // "Produce", "ApiVersions", ...')
    o('  int16_t min_version, max_version;')
    o('  int16_t first_flexible;  // -1 when no version is flexible')
    o('};')
    o()
    o('/// Every API with a request schema, ordered by key.')
    o('const std::vector<ApiInfo>& AllApis();')
    o('/// The API\'s name ("Produce"), or nullptr for an unknown key.')
    o('const char* ApiName(int16_t api_key);')
    o('/// Request header version for a request: 2 for flexible versions, else 1 (0 for')
    o('/// ControlledShutdown v0). Unknown keys: 1.')
    o('int16_t RequestHeaderVersion(int16_t api_key, int16_t api_version);')
    o('/// Response header version: 1 for flexible versions, else 0; always 0 for ApiVersions.')
    o('int16_t ResponseHeaderVersion(int16_t api_key, int16_t api_version);')
    for msg in messages:
        o()
        if msg.type == 'header':
            what = 'header'
        else:
            what = f'API key {msg.api_key} {msg.type}'
        flex = f'flexible {msg.first_flexible}+' if msg.first_flexible >= 0 else 'never flexible'
        o(f'// {msg.name}: {what}, versions {msg.min_version}-{msg.max_version}, {flex}.')
        emit_struct_decl(o, msg.top)
    o()
    o('}  // namespace eddy::kafka')
    return o.text()


# ------------------------------------------------------------------------------------------------
# Codecs

def emit_decode(o, sd):
    msg = sd.message
    P = sd.possible
    o.signature(f'absl::Status {sd.qual}::Decode(', 'ByteReader& _r, int16_t _version) {')
    o.ind += 1
    if sd.is_message:
        o('if (_version < kMinVersion || _version > kMaxVersion) {')
        o.signature('  return UnsupportedVersionError(',
                    f'"{msg.name}", _version, kMinVersion, kMaxVersion);')
        o('}')
        o('absl::Status _status = [&]() -> absl::Status {')
        o.ind += 1
    o(f'*this = {sd.name}();')
    for f in sd.fields:
        def body(compact, nullable, f=f):
            return decode_value(f, f.type, f.cpp, compact, nullable, is_optional(f), '_r')
        o.block(version_chain(f.regular, P, f, body))
    tagged = [f for f in sd.fields if version_cond(f.tagged, P)]
    flex = version_cond(msg.flexible, P)
    if flex:
        lines = []
        if not tagged:
            lines.append(
                'EDDY_RETURN_IF_ERROR(_r.ReadUnknownTaggedFields(&unknown_tagged_fields));')
        else:
            lines += ['uint32_t _num_tagged;',
                      'uint32_t _prev_tag = 0;',
                      'EDDY_RETURN_IF_ERROR(_r.ReadUnsignedVarint(&_num_tagged));',
                      'for (uint32_t _t = 0; _t < _num_tagged; ++_t) {',
                      '  uint32_t _tag;',
                      '  ByteReader _f;',
                      '  EDDY_RETURN_IF_ERROR(_r.ReadTaggedField(&_tag, &_f));',
                      '  EDDY_RETURN_IF_ERROR(CheckTagOrder(_t, _tag, &_prev_tag));']
            first = True
            for f in sorted(tagged, key=lambda f: f.tag):
                cond = and_cond(f'_tag == {f.tag}', version_cond(f.tagged, P & msg.flexible))
                keyword = 'if' if first else '} else if'
                lines.append(f'  {keyword} ({cond}) {{')
                first = False

                def body(compact, nullable, f=f):
                    return decode_value(f, f.type, f.cpp, compact, nullable, is_optional(f), '_f')
                lines += indent(version_chain(f.tagged, f.tagged & P, f, body), 2)
            lines += ['  } else {',
                      '    unknown_tagged_fields.push_back('
                      'TaggedField{_tag, std::string(_f.rest())});',
                      '    continue;',
                      '  }',
                      '  EDDY_RETURN_IF_ERROR(_f.ExpectEnd());',
                      '}']
        if flex == 'true':
            o.block(lines)
        else:
            o(f'if ({flex}) {{')
            o.block(indent(lines))
            o('}')
    o('return absl::OkStatus();')
    if sd.is_message:
        o.ind -= 1
        o('}();')
        o('if (!_status.ok()) {')
        o(f'  return AnnotateDecodeError(_status, "{msg.name}", _version);')
        o('}')
        o('return _status;')
    o.ind -= 1
    o('}')


def emit_encode(o, sd):
    msg = sd.message
    P = sd.possible
    o.signature(f'void {sd.qual}::Encode(', 'ByteWriter& _w, int16_t _version) const {')
    o.ind += 1
    if sd.is_message:
        o('if (_version < kMinVersion || _version > kMaxVersion) {')
        call = f'UnsupportedVersionError("{msg.name}", _version, kMinVersion, kMaxVersion));'
        if 2 * o.ind + 6 + len(call) <= 100:
            o.signature('  _w.SetError(', call)
        else:
            o(f'  _w.SetError(UnsupportedVersionError("{msg.name}", _version,')
            o('                                      kMinVersion, kMaxVersion));')
        o('  return;')
        o('}')
    for f in sd.fields:
        def body(compact, nullable, f=f):
            return encode_value(f, f.type, f.cpp, compact, nullable, is_optional(f), '_w')
        o.block(version_chain(f.regular, P, f, body))
    tagged = sorted([f for f in sd.fields if version_cond(f.tagged, P)], key=lambda f: f.tag)
    flex = version_cond(msg.flexible, P)
    if flex:
        lines = []
        if not tagged:
            lines.append('_w.WriteTaggedFields(unknown_tagged_fields);')
        else:
            lines.append('uint32_t _num_tagged = 0;')
            for f in tagged:
                cond = and_cond(version_cond(f.tagged, P & msg.flexible),
                                differs_from_default(f, f.cpp, struct_what(sd, f)))
                lines.append(f'const bool _has_{f.cpp} = {cond};')
                lines.append(f'if (_has_{f.cpp}) ++_num_tagged;')
            lines.append('TaggedFieldsWriter _tw(_w, unknown_tagged_fields, _num_tagged);')
            for f in tagged:
                def body(compact, nullable, f=f):
                    return encode_value(f, f.type, f.cpp, compact, nullable, is_optional(f), '_f')
                lines += [f'if (_has_{f.cpp}) {{', '  ByteWriter _f;']
                # Presence already implies a tagged version, so branch only on encoding variants.
                lines += indent(version_chain(f.tagged, f.tagged & P, f, body))
                lines += [f'  _tw.Write({f.tag}, _f);', '}']
            lines.append('_tw.Finish();')
        if flex == 'true':
            o.block(lines)
        else:
            o(f'if ({flex}) {{')
            o.block(indent(lines))
            o('}')
    o.ind -= 1
    o('}')


def emit_codec_file(messages):
    o = Out()
    o('// Generated by src/kafka/protocol/generate.py. Do not edit.')
    o('#include <string>')
    o('#include <utility>')
    o()
    o('#include "base/status.h"')
    o('#include "kafka/messages.h"')
    o()
    o('namespace eddy::kafka {')
    for msg in messages:
        o()
        o(f'// {msg.name} ' + '-' * max(0, 93 - len(msg.name)))
        for sd in msg.nested + [msg.top]:
            o()
            emit_decode(o, sd)
            o()
            emit_encode(o, sd)
    o()
    o('}  // namespace eddy::kafka')
    return o.text()


def emit_api_table(messages):
    requests = sorted([m for m in messages if m.type == 'request'], key=lambda m: m.api_key)
    responses = {m.api_key: m for m in messages if m.type == 'response'}
    o = Out()
    o('// Generated by src/kafka/protocol/generate.py. Do not edit.')
    o('#include <vector>')
    o()
    o('#include "kafka/messages.h"')
    o()
    o('namespace eddy::kafka {')
    o()
    o('const std::vector<ApiInfo>& AllApis() {')
    o('  static const std::vector<ApiInfo> kApis = {')
    for m in requests:
        name = m.name[:-len('Request')] if m.name.endswith('Request') else m.name
        o(f'      {{{m.api_key}, "{name}", {m.min_version}, {m.max_version}, '
          f'{m.first_flexible}}},')
    o('  };')
    o('  return kApis;')
    o('}')
    o()
    o('const char* ApiName(int16_t api_key) {')
    o('  switch (api_key) {')
    for m in requests:
        name = m.name[:-len('Request')] if m.name.endswith('Request') else m.name
        o(f'    case {m.api_key}:')
        o(f'      return "{name}";')
    o('    default:')
    o('      return nullptr;')
    o('  }')
    o('}')
    o()
    o('int16_t RequestHeaderVersion(int16_t api_key, int16_t api_version) {')
    o('  int16_t first_flexible = -1;')
    o('  switch (api_key) {')
    o('    case 7:  // ControlledShutdown v0 (no schema here) used header v0')
    o('      return api_version == 0 ? 0 : 1;')
    for m in requests:
        o(f'    case {m.api_key}:')
        o(f'      first_flexible = {m.first_flexible};')
        o('      break;')
    o('    default:')
    o('      return 1;')
    o('  }')
    o('  return first_flexible >= 0 && api_version >= first_flexible ? 2 : 1;')
    o('}')
    o()
    o('int16_t ResponseHeaderVersion(int16_t api_key, int16_t api_version) {')
    o('  int16_t first_flexible = -1;')
    o('  switch (api_key) {')
    o('    case 18:  // ApiVersions: the response header never has tagged fields')
    o('      return 0;')
    for m in requests:
        r = responses.get(m.api_key)
        if r is None or m.api_key == 18:
            continue
        o(f'    case {m.api_key}:')
        o(f'      first_flexible = {r.first_flexible};')
        o('      break;')
    o('    default:')
    o('      return 0;')
    o('  }')
    o('  return first_flexible >= 0 && api_version >= first_flexible ? 1 : 0;')
    o('}')
    o()
    o('}  // namespace eddy::kafka')
    return o.text()


# ------------------------------------------------------------------------------------------------
# Test filling (test_fill.inc)

def fill_value(f, t, target, k, optional, nullable_here, seed):
    """Lines setting `target` to a non-default test value (k: a per-field constant)."""
    lines = []
    if optional and nullable_here:
        lines.append(f'if (TestNull({seed}, {k})) {{')
        lines.append(f'  {target}.reset();')
        lines.append('} else {')
        lines += indent(fill_value(f, t, target, k, True, False, seed))
        lines.append('}')
        return lines
    if optional:
        # Assign through emplace() so that the value is present.
        tgt = f'{target}.emplace()'
    else:
        tgt = target
    if t.kind == 'prim':
        n = t.name
        ctype = PRIMITIVES[n][0]
        if n in INT_TYPES:
            init, _ = default_parts(f, f.name)
            return [f'{target} = TestInt<{ctype}>({seed}, {k}, {init});']
        if n == 'bool':
            init, _ = default_parts(f, f.name)
            return [f'{target} = {"false" if init == "true" else "true"};']
        if n == 'float64':
            return [f'{target} = TestDouble({seed}, {k});']
        if n == 'uuid':
            return [f'{target} = TestUuid({seed}, {k});']
    if t.kind == 'string':
        return [f'{tgt} = TestString({seed}, {k});']
    if t.kind in ('bytes', 'records'):
        return [f'{tgt} = TestBytes({seed}, {k});']
    if t.kind == 'struct':
        return [f'FillForTest({tgt}, _version, {seed});']
    if t.kind == 'array':
        lines = [f'auto& _v = {tgt};', 'for (int _i = 0; _i < 2; ++_i) {']
        e = t.elem
        eseed = f'{seed} + 3 * (_i + 1)'
        if e.kind == 'struct':
            lines.append(f'  FillForTest(_v.emplace_back(), _version, {eseed});')
        elif e.kind == 'prim' and e.name in INT_TYPES:
            lines.append(f'  _v.push_back(TestInt<{PRIMITIVES[e.name][0]}>({eseed}, {k}, 0));')
        elif e.kind == 'prim' and e.name == 'bool':
            lines.append('  _v.push_back(_i == 0);')
        elif e.kind == 'prim' and e.name == 'float64':
            lines.append(f'  _v.push_back(TestDouble({eseed}, {k}));')
        elif e.kind == 'prim' and e.name == 'uuid':
            lines.append(f'  _v.push_back(TestUuid({eseed}, {k}));')
        elif e.kind == 'string':
            lines.append(f'  _v.push_back(TestString({eseed}, {k}));')
        else:
            raise AssertionError(e.kind)
        lines.append('}')
        return lines
    raise AssertionError(t.kind)


def emit_fill(o, sd, counter):
    msg = sd.message
    P = sd.possible
    o.signature(f'inline void FillForTest({sd.qual}& _m, ', 'int16_t _version, int _seed) {')
    o.ind += 1
    for f in sd.fields:
        counter[0] += 1
        k = counter[0]
        def body(compact, nullable, f=f, k=k):
            return fill_value(f, f.type, f'_m.{f.cpp}', k, is_optional(f), nullable, '_seed')
        o.block(version_chain(f.versions, P, f, body))
    flex = version_cond(msg.flexible, P)
    if flex:
        known = {f.tag for f in sd.fields if f.tag is not None}
        t1 = 0
        while t1 in known:
            t1 += 1
        t2 = max(known | {t1}) + 10
        line = f'AddUnknownTaggedFieldsForTest(_m.unknown_tagged_fields, {t1}, {t2}, _seed);'
        if flex == 'true':
            o(line)
        else:
            o(f'if ({flex}) {line}')
    o.ind -= 1
    o('}')


def emit_test_fill(messages):
    o = Out()
    o('// Generated by src/kafka/protocol/generate.py. Do not edit. For tests only: include it in')
    o('// one test source after "kafka/messages.h".')
    o('//')
    o('// FillForTest(msg, version, seed) sets every field that exists in `version` to a value')
    o('// that differs from its default (2 elements per array, unknown tagged fields in flexible')
    o('// versions). Nullable fields are null for seed % 3 == 1, half of them for seed % 3 == 2.')
    o('#pragma once')
    o()
    o('#include <cstdint>')
    o('#include <string>')
    o('#include <vector>')
    o()
    o('namespace eddy::kafka {')
    o()
    o('inline bool TestNull(int seed, int k) {')
    o('  return seed % 3 == 1 || (seed % 3 == 2 && k % 2 == 0);')
    o('}')
    o()
    o('template <typename T>')
    o('T TestInt(int seed, int k, T default_value) {')
    o('  // Spreads bits over all bytes of the type so that byte order matters.')
    o('  uint64_t x = 0x0102030405060708ull * static_cast<uint64_t>(k + 1) +')
    o('               0x1111ull * static_cast<uint64_t>(seed) + static_cast<uint64_t>(k);')
    o('  T v = static_cast<T>(x);')
    o('  if (v == default_value) v = static_cast<T>(v + 1);')
    o('  return v;')
    o('}')
    o()
    o('inline double TestDouble(int seed, int k) { return k + seed * 0.5 + 0.25; }')
    o()
    o('inline Uuid TestUuid(int seed, int k) {')
    o('  Uuid u;')
    o('  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(k * 16 + i + seed + 1);')
    o('  return u;')
    o('}')
    o()
    o('inline std::string TestString(int seed, int k) {')
    o('  return "s" + std::to_string(k) + "_" + std::to_string(seed);')
    o('}')
    o()
    o('inline std::string TestBytes(int seed, int k) {')
    o('  std::string s("\\0\\xff", 2);')
    o('  s += "b" + std::to_string(k) + "_" + std::to_string(seed);')
    o('  return s;')
    o('}')
    o()
    o('inline void AddUnknownTaggedFieldsForTest(std::vector<TaggedField>& fields, uint32_t t1,')
    o('                                          uint32_t t2, int seed) {')
    o('  fields.push_back(TaggedField{t1, seed % 2 == 0 ? std::string("u1") : std::string()});')
    o('  fields.push_back(')
    o('      TaggedField{t2 + static_cast<uint32_t>(seed % 5), std::string("\\x01\\x02")});')
    o('}')
    o()
    for msg in messages:
        for sd in msg.nested + [msg.top]:
            o.signature(f'inline void FillForTest({sd.qual}& _m, ', 'int16_t _version, int _seed);')
    counter = [0]
    for msg in messages:
        for sd in msg.nested + [msg.top]:
            o()
            emit_fill(o, sd, counter)
    o()
    o('}  // namespace eddy::kafka')
    o()
    o('// X(Type) for every message: the two headers, every request and every response.')
    o('#define EDDY_KAFKA_FOR_EACH_MESSAGE(X) \\')
    for i, msg in enumerate(messages):
        o(f'  X({msg.name})' + (' \\' if i + 1 < len(messages) else ''))
    return o.text()


# ------------------------------------------------------------------------------------------------

def write_if_changed(path, text):
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def message_weight(msg):
    n = 0
    for sd in msg.nested + [msg.top]:
        n += 4 + len(sd.fields)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--schemata', required=True, help='directory of *.json message schemata')
    ap.add_argument('--out', required=True, help='output directory')
    ap.add_argument('--shards', type=int, default=8, help='number of messages_<i>.cc files')
    args = ap.parse_args()

    paths = sorted(p for p in os.listdir(args.schemata) if p.endswith('.json'))
    if not paths:
        raise SchemaError(f'no *.json in {args.schemata}')
    messages = [load_message(os.path.join(args.schemata, p)) for p in paths]
    names = [m.name for m in messages]
    if len(names) != len(set(names)):
        raise SchemaError('duplicate message names')
    kind_order = {'header': 0, 'request': 1, 'response': 1}
    messages.sort(key=lambda m: (kind_order[m.type], m.api_key if m.api_key is not None else -1,
                                 m.type, m.name))
    for t in ('request', 'response'):
        keys = [m.api_key for m in messages if m.type == t]
        if len(keys) != len(set(keys)):
            raise SchemaError(f'two {t}s with the same apiKey')

    os.makedirs(args.out, exist_ok=True)
    write_if_changed(os.path.join(args.out, 'messages.h'), emit_header(messages))
    write_if_changed(os.path.join(args.out, 'api_table.cc'), emit_api_table(messages))
    write_if_changed(os.path.join(args.out, 'test_fill.inc'), emit_test_fill(messages))

    # Greedy balancing of the codecs over the shards; a request and its response stay together.
    groups = {}
    for m in messages:
        groups.setdefault(m.api_key if m.api_key is not None else f'h:{m.name}', []).append(m)
    shards = [[] for _ in range(args.shards)]
    weights = [0] * args.shards
    for g in sorted(groups.values(), key=lambda g: -sum(map(message_weight, g))):
        i = weights.index(min(weights))
        shards[i] += g
        weights[i] += sum(map(message_weight, g))
    for i, shard in enumerate(shards):
        shard.sort(key=lambda m: messages.index(m))
        write_if_changed(os.path.join(args.out, f'messages_{i}.cc'), emit_codec_file(shard))


if __name__ == '__main__':
    try:
        main()
    except SchemaError as e:
        print(f'generate.py: error: {e}', file=sys.stderr)
        sys.exit(1)
