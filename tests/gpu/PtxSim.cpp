// tests/gpu/PtxSim.cpp — see PtxSim.h. An entry is parsed once into decoded instructions, then
// each block runs its threads as interpreter states (pc, registers) under a scheduler that
// resolves warp shuffles when every live lane of a warp has reached one and barriers when every
// live thread of the block has. Where the PTX ISA leaves a case undefined and a GPU might let it
// pass (a shuffle reading an exited lane, lanes outside the membermask, threads at different
// bar.sync instructions) the run fails, naming it: those are bugs the hardware would hide.
#include "tests/gpu/PtxSim.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace xpr::ptxsim {
namespace {

struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- types ----

struct Ty {
  char k = 'b'; // s u b f (float) p (pred) h (bf16, stored as 16 bits)
  int bits = 32;
};

bool parse_type(const std::string &s, Ty &t) {
  static const std::map<std::string, Ty> types = {
      {"s8", {'s', 8}},   {"s16", {'s', 16}},  {"s32", {'s', 32}},   {"s64", {'s', 64}},
      {"u8", {'u', 8}},   {"u16", {'u', 16}},  {"u32", {'u', 32}},   {"u64", {'u', 64}},
      {"b8", {'b', 8}},   {"b16", {'b', 16}},  {"b32", {'b', 32}},   {"b64", {'b', 64}},
      {"f16", {'f', 16}}, {"bf16", {'h', 16}}, {"f16x2", {'x', 32}}, {"f32", {'f', 32}},
      {"f64", {'f', 64}}, {"pred", {'p', 1}}};
  auto it = types.find(s);
  if (it == types.end()) return false;
  t = it->second;
  return true;
}

std::uint64_t mask_of(int bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }
std::int64_t sext(std::uint64_t v, int bits) {
  if (bits >= 64) return static_cast<std::int64_t>(v);
  const std::uint64_t m = 1ull << (bits - 1);
  v &= mask_of(bits);
  return static_cast<std::int64_t>((v ^ m) - m);
}

float f32_of(std::uint64_t v) {
  float f;
  const auto u = static_cast<std::uint32_t>(v);
  std::memcpy(&f, &u, 4);
  return f;
}
double f64_of(std::uint64_t v) {
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}
std::uint64_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
std::uint64_t bits_of(double d) {
  std::uint64_t u;
  std::memcpy(&u, &d, 8);
  return u;
}

/// IEEE binary16 (bf = false) or bfloat16 (bf = true) bits to double: exact.
double half_to_double(std::uint64_t h, bool bf) {
  if (bf) return f32_of(static_cast<std::uint32_t>(h & 0xffff) << 16);
  const int s = (h >> 15) & 1, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 0)
    v = std::ldexp(m, -24);
  else if (e == 31)
    v = m ? std::numeric_limits<double>::quiet_NaN() : INFINITY;
  else
    v = std::ldexp(m + 1024, e - 25);
  if (e == 31 && m) {
    // Keep the payload's sign: NaN signs survive conversions on the GPU.
    return s ? -std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::quiet_NaN();
  }
  return s ? -v : v;
}

/// double to binary16/bfloat16 bits, rounded to nearest even (one rounding, from the double).
std::uint64_t double_to_half(double x, bool bf) {
  const int mbits = bf ? 7 : 10, ebits = bf ? 8 : 5;
  const int bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
  std::uint64_t sign = std::signbit(x) ? 1ull << 15 : 0;
  if (std::isnan(x))
    return sign | (static_cast<std::uint64_t>(emax) << mbits) | (1ull << (mbits - 1));
  double a = std::fabs(x);
  if (std::isinf(a)) return sign | (static_cast<std::uint64_t>(emax) << mbits);
  if (a == 0) return sign;
  int e;
  std::frexp(a, &e);                  // a = f * 2^e, f in [0.5, 1)
  int exp = e - 1;                    // a = 1.xxx * 2^exp
  if (exp < 1 - bias) exp = 1 - bias; // subnormal range: fixed quantum
  const double q = std::ldexp(1.0, exp - mbits);
  double r = std::nearbyint(a / q); // exact scaling, round to nearest even
  std::uint64_t m = static_cast<std::uint64_t>(r);
  if (m >= (2ull << mbits)) { // rounded up to the next binade
    m >>= 1;
    ++exp;
  }
  if (exp > bias) return sign | (static_cast<std::uint64_t>(emax) << mbits); // overflow: inf
  if (m < (1ull << mbits)) return sign | m;                                  // subnormal
  return sign | (static_cast<std::uint64_t>(exp + bias) << mbits) | (m & mask_of(mbits));
}

// ---- decoded instructions ----

enum class Base {
  Ld,
  St,
  Mov,
  Cvt,
  Cvta,
  Add,
  Sub,
  Mul,
  Mad,
  Fma,
  Div,
  Rem,
  Min,
  Max,
  Abs,
  Neg,
  And,
  Or,
  Xor,
  Not,
  Shl,
  Shr,
  Setp,
  Selp,
  Bra,
  Shfl,
  Bar,
  Ret,
  Sqrt,
  Rcp,
  Copysign,
  Bfe,
  Bfi,
  Ex2,
  Lg2,
  Rsqrt,
  Sin,
  Cos,
  Tanh,
  Clz,
  Popc,
  Nop
};

enum class OpKind { Reg, Imm, Addr, Vec, Special, Sym, Label, Sink };

struct Operand {
  OpKind kind = OpKind::Imm;
  int reg = -1;        // Reg, Addr (base register or -1)
  bool negate = false; // "!%p" predicate operands
  std::uint64_t imm = 0;
  std::int64_t offset = 0; // Addr
  int sym = -1;            // Addr/Sym: param index (space Param) or shared symbol index
  bool sym_param = false;
  bool sym_local = false; // Sym: a .local symbol (the thread's own buffer, a host address)
  std::vector<int> regs;  // Vec (-1: sink)
  int special = 0;        // 0 tid.x 1 ntid.x 2 ctaid.x 3 nctaid.x 4 laneid 5 zero (.y/.z) 6 one
  int second = -1;        // "d|p": the predicate destination of shfl/setp
};

struct Inst {
  Base base = Base::Nop;
  std::string text; // for messages
  int pred = -1;
  bool pred_neg = false;
  std::vector<Ty> types;
  char space = 'g'; // p(aram) g(lobal/generic) s(hared)
  int vec = 1;
  std::string cmp, boolop, mode, round;
  int cmpc = -1, boolc = 0, modec = 0; // decoded cmp (index in kCmps), and/or/xor, shfl mode
  bool hi = false, wide = false, ftz = false, sat = false;
  bool cc = false, carry_in = false; // .cc writes the carry flag; addc/subc/madc read it
  bool aligned = false; // bar.sync, barrier.sync.aligned: every thread at the same instruction
  std::vector<Operand> ops;
  int target = -1; // Bra: instruction index
};

struct Entry {
  std::vector<Inst> code;
  int nregs = 0;
  std::vector<int> param_size;
  std::vector<std::int64_t> shared_offset;
  std::int64_t shared_bytes = 0;          ///< static; the launch's dynamic shared memory follows
  std::vector<std::int64_t> local_offset; ///< .local symbols: offsets into each thread's buffer
  std::int64_t local_bytes = 0;
  /// The module's .global arrays it uses: host address and bytes (for set_global_check).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> module_arrays;
};

GlobalCheck g_global_check = nullptr;

std::string trim(const std::string &s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

/// Splits at commas outside brackets and braces.
std::vector<std::string> split_operands(const std::string &s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '[' || c == '{' || c == '(') ++depth;
    if (c == ']' || c == '}' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

const std::vector<std::string> kCmps = {"eq",  "ne",  "lt",  "le",  "gt",  "ge",
                                        "lo",  "ls",  "hi",  "hs",  "equ", "neu",
                                        "ltu", "leu", "gtu", "geu", "num", "nan"};
enum Cmp { EQ, NE, LT, LE, GT, GE, LO, LS, HI, HS, EQU, NEU, LTU, LEU, GTU, GEU, NUM, NAN_ };

/// A module's .global arrays (libdevice's tables), one copy per module text for the process:
/// their symbols are host addresses.
std::mutex g_globals_mu;
std::map<std::size_t, std::map<std::string, std::vector<unsigned char>>> g_globals;

struct Parser {
  Entry e;
  std::unordered_map<std::string, std::uint64_t> globals; // name -> host address
  std::unordered_map<std::string, int> regs, params, shared, local, labels;
  std::vector<std::pair<int, std::string>> fixups;
  // Calls are inlined: a callee's registers, labels and locals are renamed with a prefix per
  // call site, its parameters and return value are aliases of the call site's .param variables
  // (per-thread local memory), and its ret branches to the end of the inlined body.
  const std::string *module = nullptr;
  std::string prefix, ret_label;
  std::unordered_map<std::string, std::string> alias;
  int inlined = 0, depth_of_calls = 0;

  std::string scoped(const std::string &n) const {
    auto a = alias.find(n);
    return a != alias.end() ? a->second : prefix + n;
  }

  int reg(const std::string &raw) {
    const std::string name = scoped(raw);
    auto it = regs.find(name);
    if (it != regs.end()) return it->second;
    regs.emplace(name, e.nregs);
    return e.nregs++;
  }

  /// A per-thread variable (.local, or a call site's .param) of `bytes` bytes, aligned.
  void declare_local(const std::string &name, std::int64_t bytes, std::int64_t align) {
    e.local_bytes = (e.local_bytes + align - 1) / align * align;
    local[scoped(name)] = static_cast<int>(e.local_offset.size());
    e.local_offset.push_back(e.local_bytes);
    e.local_bytes += bytes;
  }

  /// An integer or float-bits literal (42, -7, 0x1F, 0f3F800000, 0d3FF0...). Never throws: it is
  /// asked about every operand, and the C programs that load this library under ASan cannot
  /// unwind C++ exceptions (ASan's __cxa_throw interceptor finds no libstdc++ there).
  static std::uint64_t parse_imm(const std::string &s, bool &ok) {
    ok = false;
    const char *c = s.c_str();
    const bool neg = !s.empty() && s[0] == '-';
    const char *digits = neg ? c + 1 : c;
    int base = 10;
    if (digits[0] == '0' && std::strchr("fFdDxX", digits[1]) && digits[1] != 0) {
      base = 16;
      digits += 2;
    }
    if (!std::isxdigit(static_cast<unsigned char>(digits[0])) ||
        (base == 10 && !std::isdigit(static_cast<unsigned char>(digits[0]))))
      return 0;
    char *end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(digits, &end, base);
    if (*end != 0 || errno == ERANGE) return 0;
    ok = true;
    return neg ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  }

  Operand operand(const std::string &raw) {
    Operand o;
    std::string s = raw;
    if (auto bar = s.find('|'); bar != std::string::npos) {
      o = operand(trim(s.substr(0, bar)));
      o.second = reg(trim(s.substr(bar + 1)));
      return o;
    }
    if (s == "_") {
      o.kind = OpKind::Sink;
      return o;
    }
    if (!s.empty() && s[0] == '!') {
      o = operand(s.substr(1));
      o.negate = true;
      return o;
    }
    if (!s.empty() && s[0] == '[') {
      o.kind = OpKind::Addr;
      std::string in = trim(s.substr(1, s.size() - 2));
      std::size_t plus = in.find_first_of("+-", 1);
      std::string base = trim(in.substr(0, plus));
      if (plus != std::string::npos) {
        std::string off = trim(in.substr(plus));
        if (off[0] == '+') off = trim(off.substr(1));
        bool ok;
        o.offset = static_cast<std::int64_t>(parse_imm(off, ok));
        if (!ok) throw Fail("bad address offset in '" + raw + "'");
      }
      if (auto lo = local.find(scoped(base)); lo != local.end()) {
        o.sym = lo->second;
        o.sym_local = true;
      } else if (auto p = params.find(base); p != params.end()) {
        o.sym = p->second;
        o.sym_param = true;
      } else if (auto g = globals.find(base); g != globals.end()) {
        o.offset += static_cast<std::int64_t>(g->second);
      } else if (auto sh = shared.find(base); sh != shared.end()) {
        o.sym = sh->second;
      } else {
        bool ok;
        std::uint64_t a = parse_imm(base, ok);
        if (ok)
          o.offset += static_cast<std::int64_t>(a);
        else
          o.reg = reg(base);
      }
      return o;
    }
    if (!s.empty() && s[0] == '{') {
      o.kind = OpKind::Vec;
      for (const std::string &r : split_operands(s.substr(1, s.size() - 2)))
        o.regs.push_back(r == "_" ? -1 : reg(r));
      return o;
    }
    static const std::map<std::string, int> specials = {
        {"%tid.x", 0},  {"%ntid.x", 1},   {"%ctaid.x", 2}, {"%nctaid.x", 3}, {"%laneid", 4},
        {"%tid.y", 5},  {"%tid.z", 5},    {"%ctaid.y", 5}, {"%ctaid.z", 5},  {"%ntid.y", 6},
        {"%ntid.z", 6}, {"%nctaid.y", 6}, {"%nctaid.z", 6}};
    if (auto sp = specials.find(s); sp != specials.end()) {
      o.kind = OpKind::Special;
      o.special = sp->second;
      return o;
    }
    if (auto sh = shared.find(s); sh != shared.end()) {
      o.kind = OpKind::Sym;
      o.sym = sh->second;
      return o;
    }
    if (auto g = globals.find(s); g != globals.end()) {
      o.kind = OpKind::Imm;
      o.imm = g->second;
      return o;
    }
    if (auto lo = local.find(scoped(s)); lo != local.end()) {
      o.kind = OpKind::Sym;
      o.sym = lo->second;
      o.sym_local = true;
      return o;
    }
    bool ok;
    std::uint64_t v = parse_imm(s, ok);
    if (ok) {
      o.kind = OpKind::Imm;
      o.imm = v;
      return o;
    }
    if (s.rfind("$L", 0) == 0) {
      o.kind = OpKind::Label;
      return o;
    }
    if (s.rfind("%", 0) == 0 || regs.count(scoped(s))) {
      o.kind = OpKind::Reg;
      o.reg = reg(s);
      return o;
    }
    throw Fail("unknown operand '" + raw + "'");
  }

  void instruction(const std::string &stmt) {
    std::string s = stmt;
    Inst in;
    in.text = s;
    if (s[0] == '@') {
      std::size_t sp = s.find_first_of(" \t");
      std::string p = s.substr(1, sp - 1);
      if (p[0] == '!') {
        in.pred_neg = true;
        p = p.substr(1);
      }
      in.pred = reg(p);
      s = trim(s.substr(sp));
    }
    std::size_t sp = s.find_first_of(" \t");
    const std::string opcode = s.substr(0, sp);
    const std::string rest = sp == std::string::npos ? "" : trim(s.substr(sp));
    if (opcode == "call" || opcode == "call.uni") {
      if (in.pred >= 0) throw Fail("a predicated call");
      inline_call(rest);
      return;
    }
    if ((opcode == "ret" || opcode == "exit") && !ret_label.empty()) { // an inlined callee's
      in.base = Base::Bra;
      fixups.emplace_back(static_cast<int>(e.code.size()), ret_label);
      e.code.push_back(std::move(in));
      return;
    }
    std::vector<std::string> parts;
    {
      std::stringstream ss(opcode);
      for (std::string p; std::getline(ss, p, '.');)
        parts.push_back(p);
    }
    static const std::map<std::string, Base> bases = {
        {"ld", Base::Ld},       {"st", Base::St},       {"mov", Base::Mov},
        {"cvt", Base::Cvt},     {"cvta", Base::Cvta},   {"add", Base::Add},
        {"addc", Base::Add},    {"subc", Base::Sub},    {"madc", Base::Mad},
        {"sub", Base::Sub},     {"mul", Base::Mul},     {"mad", Base::Mad},
        {"fma", Base::Fma},     {"div", Base::Div},     {"rem", Base::Rem},
        {"min", Base::Min},     {"max", Base::Max},     {"abs", Base::Abs},
        {"neg", Base::Neg},     {"and", Base::And},     {"or", Base::Or},
        {"xor", Base::Xor},     {"not", Base::Not},     {"shl", Base::Shl},
        {"shr", Base::Shr},     {"setp", Base::Setp},   {"selp", Base::Selp},
        {"bra", Base::Bra},     {"shfl", Base::Shfl},   {"bar", Base::Bar},
        {"barrier", Base::Bar}, {"ret", Base::Ret},     {"exit", Base::Ret},
        {"sqrt", Base::Sqrt},   {"rcp", Base::Rcp},     {"copysign", Base::Copysign},
        {"bfe", Base::Bfe},     {"bfi", Base::Bfi},     {"ex2", Base::Ex2},
        {"lg2", Base::Lg2},     {"rsqrt", Base::Rsqrt}, {"sin", Base::Sin},
        {"cos", Base::Cos},     {"tanh", Base::Tanh},   {"clz", Base::Clz},
        {"popc", Base::Popc}};
    auto b = bases.find(parts[0]);
    if (b == bases.end()) throw Fail("unsupported instruction '" + opcode + "'");
    in.base = b->second;
    in.carry_in = parts[0] == "addc" || parts[0] == "subc" || parts[0] == "madc";
    in.aligned =
        parts[0] == "bar" || std::find(parts.begin(), parts.end(), "aligned") != parts.end();
    const std::vector<std::string> &cmps = kCmps;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const std::string &p = parts[i];
      Ty t;
      if (parse_type(p, t))
        in.types.push_back(t);
      else if (p == "param")
        in.space = 'p';
      else if (p == "shared")
        in.space = 's';
      else if (p == "global" || p == "nc" || p == "to" || p == "uni" || p == "sync" ||
               p == "aligned" || p == "full" || p == "approx")
        continue;
      else if (p == "local")
        continue; // host addresses, like global (see Thread::local)
      else if (p == "const")
        throw Fail("unsupported state space in '" + opcode + "'");
      else if (p == "v2")
        in.vec = 2;
      else if (p == "v4")
        in.vec = 4;
      else if (p == "hi")
        in.hi = true;
      else if (p == "lo")
        in.hi = false;
      else if (p == "wide")
        in.wide = true;
      else if (p == "cc")
        in.cc = true;
      else if (p == "ftz")
        in.ftz = true;
      else if (p == "sat")
        in.sat = true;
      else if (p == "down" || p == "up" || p == "bfly" || p == "idx")
        in.mode = p;
      else if (p == "rn" || p == "rz" || p == "rm" || p == "rp" || p == "rni" || p == "rzi" ||
               p == "rmi" || p == "rpi")
        in.round = p;
      else if (in.base == Base::Setp && in.cmp.empty() &&
               std::find(cmps.begin(), cmps.end(), p) != cmps.end())
        in.cmp = p;
      else if (in.base == Base::Setp && (p == "and" || p == "or" || p == "xor"))
        in.boolop = p;
      else if (in.base == Base::Cvta && p == "shared")
        in.space = 's';
      else
        throw Fail("unsupported instruction '" + opcode + "'");
    }
    if (!in.cmp.empty())
      in.cmpc = static_cast<int>(std::find(cmps.begin(), cmps.end(), in.cmp) - cmps.begin());
    in.boolc = in.boolop == "and" ? 1 : in.boolop == "or" ? 2 : in.boolop == "xor" ? 3 : 0;
    in.modec = in.mode == "up" ? 1 : in.mode == "bfly" ? 2 : in.mode == "idx" ? 3 : 0;
    if (in.base == Base::Setp && in.cmpc < 0)
      throw Fail("setp without a comparison: '" + opcode + "'");
    if (in.base == Base::Cvta && in.space != 'g')
      throw Fail("unsupported instruction '" + opcode + "'");
    if (in.base == Base::Shfl && in.mode.empty())
      throw Fail("unsupported instruction '" + opcode + "'");
    if (in.base != Base::Bra && in.base != Base::Ret && in.base != Base::Bar && in.types.empty())
      throw Fail("no type in '" + opcode + "'");
    const std::vector<std::string> ops = split_operands(rest);
    if (in.base == Base::Bra) {
      if (ops.size() != 1) throw Fail("bad branch '" + s + "'");
      fixups.emplace_back(static_cast<int>(e.code.size()), scoped(ops[0]));
    } else {
      for (const std::string &o : ops)
        in.ops.push_back(operand(o));
    }
    e.code.push_back(std::move(in));
  }

  /// The module's `.global .align A .bN name[K] = {v, ...};` arrays.
  void module_globals(const std::string &text) {
    std::lock_guard lock(g_globals_mu);
    auto &mine = g_globals[std::hash<std::string>()(text)];
    std::stringstream ts(text);
    for (std::string line; std::getline(ts, line);) {
      if (line.rfind(".global", 0) != 0) continue;
      std::stringstream ls(line);
      std::string d, al, ty, decl;
      std::int64_t align = 1;
      ls >> d >> al >> align >> ty >> decl;
      Ty t;
      const std::size_t lb = decl.find('[');
      if (al != ".align" || ty.size() < 2 || !parse_type(ty.substr(1), t) ||
          lb == std::string::npos)
        throw Fail("unsupported module variable '" + line.substr(0, 80) + "'");
      const std::string name = decl.substr(0, lb);
      const std::size_t count = static_cast<std::size_t>(std::stoll(decl.substr(lb + 1)));
      const std::size_t es = static_cast<std::size_t>(std::max(t.bits / 8, 1));
      auto [it, fresh] = mine.try_emplace(name);
      if (fresh) {
        it->second.assign(count * es + 16, 0);
        const std::size_t ob = line.find('{'), cb = line.find('}');
        if (ob != std::string::npos && cb != std::string::npos) {
          std::size_t k = 0;
          for (const std::string &v : split_operands(line.substr(ob + 1, cb - ob - 1))) {
            bool ok;
            const std::uint64_t x = parse_imm(v, ok);
            if (!ok || k >= count) throw Fail("bad initializer of " + name);
            std::memcpy(it->second.data() + k++ * es, &x, es);
          }
        }
      }
      globals[name] =
          static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(it->second.data()));
      e.module_arrays.emplace_back(globals[name], it->second.size());
    }
  }

  /// Statements from `at` (just inside a body's opening brace) to its closing brace: directives,
  /// labels and instructions, a statement possibly spanning lines (call sequences).
  void parse_body(const std::string &text, std::size_t at) {
    std::stringstream bs(text.substr(at));
    int depth = 1;
    std::string pending;
    for (std::string line; depth > 0 && std::getline(bs, line);) {
      if (auto c = line.find("//"); c != std::string::npos) line = line.substr(0, c);
      line = trim(line);
      if (line.empty()) continue;
      // Scopes: "{" opening lines (possibly with statements after it, as inline asm writes
      // them) and "}" closing them (possibly after a statement's ';').
      while (pending.empty() && !line.empty() && line.front() == '{') {
        ++depth;
        line = trim(line.substr(1));
      }
      int closes = 0;
      while (!line.empty() && line.back() == '}') {
        const std::string before = trim(line.substr(0, line.size() - 1));
        if (!before.empty() && before.back() != ';' && before.back() != '}') break;
        ++closes;
        line = before;
      }
      if (line.empty()) {
        depth -= closes;
        continue;
      }
      pending += (pending.empty() ? "" : " ") + line;
      if (pending.back() == ':' && pending.find(';') == std::string::npos) {
        labels.emplace(scoped(pending.substr(0, pending.size() - 1)),
                       static_cast<int>(e.code.size()));
        pending.clear();
        continue;
      }
      std::size_t semi;
      while ((semi = pending.find(';')) != std::string::npos) {
        const std::string stmt = trim(pending.substr(0, semi));
        pending = trim(pending.substr(semi + 1));
        if (!stmt.empty()) statement(stmt);
      }
      depth -= closes;
    }
  }

  void statement(const std::string &stmt) {
    if (stmt.rfind(".reg", 0) == 0) {
      // ".reg .b32 tmp" or ".reg .u32 r0, r1, ...": scoped names are ordinary registers here
      // ("%r<40>" ranges are made on first use).
      const std::size_t ty_end = stmt.find_first_of(" \t", stmt.find('.', 1));
      for (const std::string &r : split_operands(stmt.substr(ty_end)))
        if (!r.empty() && r.find('<') == std::string::npos) reg(r);
      return;
    }
    if (stmt.rfind(".shared", 0) == 0 || stmt.rfind(".local", 0) == 0 ||
        stmt.rfind(".param", 0) == 0) {
      // .shared/.local/.param [.align A] .type name[N]: a call site's .param variables are
      // per-thread memory, as .local
      std::stringstream rs(stmt);
      std::vector<std::string> w;
      for (std::string x; rs >> x;)
        w.push_back(x);
      std::int64_t align = 1;
      std::size_t k = 1;
      if (w.size() > 2 && w[1] == ".align") {
        align = std::stoll(w[2]);
        k = 3;
      }
      Ty t;
      if (w.size() != k + 2 || !parse_type(w[k].substr(1), t))
        throw Fail("unsupported directive '" + stmt + "'");
      std::string decl = w[k + 1];
      std::int64_t count = 1;
      if (const std::size_t lb = decl.find('['); lb != std::string::npos) {
        count = std::stoll(decl.substr(lb + 1));
        decl = decl.substr(0, lb);
      }
      const std::int64_t bytes = count * std::max(t.bits / 8, 1);
      align = std::max(align, static_cast<std::int64_t>(std::max(t.bits / 8, 1)));
      if (stmt[1] == 's') {
        e.shared_bytes = (e.shared_bytes + align - 1) / align * align;
        shared.emplace(decl, static_cast<int>(e.shared_offset.size()));
        e.shared_offset.push_back(e.shared_bytes);
        e.shared_bytes += bytes;
      } else {
        declare_local(decl, bytes, align);
      }
      return;
    }
    if (stmt.rfind(".pragma", 0) == 0) return; // unrolling hints
    if (stmt[0] == '.') throw Fail("unsupported directive '" + stmt + "'");
    instruction(stmt);
  }

  /// call[.uni] [(ret),] name, (args): the callee's body inlined here (see `prefix`).
  void inline_call(const std::string &rest) {
    std::vector<std::string> parts = split_operands(rest);
    std::string ret;
    if (!parts.empty() && parts[0].front() == '(') {
      ret = trim(parts[0].substr(1, parts[0].size() - 2));
      parts.erase(parts.begin());
    }
    if (parts.empty()) throw Fail("bad call '" + rest + "'");
    const std::string fname = parts[0];
    std::vector<std::string> args;
    if (parts.size() > 1) {
      const std::string &a = parts[1];
      args = split_operands(a.substr(1, a.size() - 2));
    }
    if (++depth_of_calls > 8) throw Fail("calls nested deeper than 8 (recursion?)");
    // The callee: .func [(.param ... NAME_retval0...)] NAME(.param ... NAME_param_0, ...) { ... }
    const std::string &text = *module;
    std::size_t at = std::string::npos;
    for (std::size_t f = text.find(".func"); f != std::string::npos;
         f = text.find(".func", f + 5)) {
      const std::size_t open = text.find('{', f), name_at = text.find(" " + fname + "(", f);
      const std::size_t name_nl = text.find("\n" + fname + "(", f);
      const std::size_t n_at = std::min(name_at, name_nl);
      if (n_at != std::string::npos && n_at < open && text.find(';', f) > open) {
        at = n_at + 1;
        break;
      }
    }
    if (at == std::string::npos) throw Fail("no .func " + fname + " in the module");
    const std::size_t open_params = at + fname.size(), close_params = text.find(')', open_params);
    std::vector<std::string> formals;
    for (const std::string &d :
         split_operands(text.substr(open_params + 1, close_params - open_params - 1))) {
      std::stringstream ds(d);
      std::vector<std::string> w;
      for (std::string x; ds >> x;)
        w.push_back(x);
      std::string nm = w.back();
      if (const std::size_t lb = nm.find('['); lb != std::string::npos) nm = nm.substr(0, lb);
      formals.push_back(nm);
    }
    if (formals.size() != args.size()) throw Fail("call of " + fname + " with the wrong arity");
    const std::size_t head = text.rfind(".func", at);
    std::string retname;
    if (const std::size_t rp = text.find('(', head); rp < at) {
      std::stringstream rs(text.substr(rp + 1, text.find(')', rp) - rp - 1));
      std::vector<std::string> w;
      for (std::string x; rs >> x;)
        w.push_back(x);
      if (!w.empty()) {
        retname = w.back();
        if (const std::size_t lb = retname.find('['); lb != std::string::npos)
          retname = retname.substr(0, lb);
      }
    }
    // Callee scope.
    const std::string saved_prefix = prefix, saved_ret = ret_label;
    const auto saved_alias = alias;
    std::unordered_map<std::string, std::string> next;
    for (std::size_t k = 0; k < args.size(); ++k)
      next[formals[k]] = scoped(args[k]);
    if (!retname.empty() && !ret.empty()) next[retname] = scoped(ret);
    prefix = "c" + std::to_string(inlined++) + ":";
    alias = std::move(next);
    ret_label = prefix + "$ret";
    parse_body(text, text.find('{', close_params) + 1);
    labels.emplace(ret_label, static_cast<int>(e.code.size()));
    prefix = saved_prefix;
    ret_label = saved_ret;
    alias = saved_alias;
    --depth_of_calls;
  }

  Entry parse(const std::string &text, const std::string &name) {
    module = &text;
    module_globals(text);
    const std::string head = ".entry " + name + "(";
    std::size_t at = text.find(head);
    if (at == std::string::npos) throw Fail("no entry " + name + " in the module");
    std::size_t close = text.find(')', at);
    std::stringstream ps(text.substr(at + head.size(), close - at - head.size()));
    for (std::string line; std::getline(ps, line, ',');) {
      line = trim(line);
      if (line.empty()) continue;
      std::stringstream ls(line);
      std::string dir, ty, pname;
      ls >> dir >> ty >> pname;
      Ty t;
      if (dir != ".param" || ty.size() < 2 || !parse_type(ty.substr(1), t))
        throw Fail("unsupported parameter '" + line + "'");
      params.emplace(pname, static_cast<int>(e.param_size.size()));
      e.param_size.push_back(t.bits / 8);
    }
    // The module's `.extern .shared .align A .bN name[];` arrays: the launch's dynamic shared
    // memory, which starts after the entry's static shared memory, aligned to 16 bytes or the
    // largest .align (their offset is set once the body has placed the static memory).
    std::vector<std::size_t> dynamic; // their indices in shared_offset
    std::int64_t dynamic_align = 16;
    {
      std::stringstream ts(text);
      for (std::string line; std::getline(ts, line);) {
        if (line.rfind(".extern .shared", 0) != 0) continue;
        std::stringstream ls(line);
        std::string ex, sh, al, ty, decl;
        std::int64_t align = 0;
        ls >> ex >> sh >> al >> align >> ty >> decl;
        const std::size_t lb = decl.find("[]");
        if (al != ".align" || align <= 0 || lb == std::string::npos)
          throw Fail("unsupported module variable '" + line.substr(0, 80) + "'");
        shared.emplace(decl.substr(0, lb), static_cast<int>(e.shared_offset.size()));
        dynamic.push_back(e.shared_offset.size());
        e.shared_offset.push_back(0);
        dynamic_align = std::max(dynamic_align, align);
      }
    }
    parse_body(text, text.find('{', close) + 1);
    if (!dynamic.empty()) {
      e.shared_bytes = (e.shared_bytes + dynamic_align - 1) / dynamic_align * dynamic_align;
      for (std::size_t d : dynamic)
        e.shared_offset[d] = e.shared_bytes;
    }
    for (auto &[i, l] : fixups) {
      auto it = labels.find(l);
      if (it == labels.end()) throw Fail("unknown label " + l);
      e.code[static_cast<std::size_t>(i)].target = it->second;
    }
    return std::move(e);
  }
};

// ---- execution ----

enum class State { Run, Bar, Shfl, Done };

struct Thread {
  int pc = 0;
  State state = State::Run;
  std::vector<std::uint64_t> r;
  std::uint64_t shfl_a = 0, shfl_b = 0, shfl_c = 0, shfl_mask = 0;
  std::uint64_t cf = 0;             ///< the carry flag (CC.CF) of add.cc/sub.cc/mad.cc chains
  std::vector<unsigned char> local; ///< .local memory: its symbols' values are host addresses
  /// The first and last 32-byte sector of each global load, in order (only when counted).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> loads;
};

/// One global load or store of a launch: its bytes [at, at + bytes), the thread (block * ntid +
/// tid) and the barrier epoch of its block when it ran.
struct GlobalAccess {
  std::uint64_t at, thread;
  std::uint32_t epoch;
  std::uint8_t bytes;
  bool store;
};

/// Whether two accesses of one launch are ordered: by one thread, or by threads of one block
/// with a bar.sync between (it orders memory among the block's threads). Nothing orders the
/// accesses of different blocks of one launch: our kernels use no atomics or fences.
bool ordered(const GlobalAccess &a, const GlobalAccess &b, unsigned ntid) {
  return a.thread == b.thread || (a.thread / ntid == b.thread / ntid && a.epoch != b.epoch);
}

std::string who(std::uint64_t thread, unsigned ntid) {
  return "thread " + std::to_string(thread % ntid) + " of block " + std::to_string(thread / ntid);
}

/// The first unordered pair of accesses to one global byte, one of them a store, as a message;
/// empty when there is none. The launch's blocks and threads run one after another here, so
/// the last store wins and a load sees whatever ran before it, which may even be the right
/// value; on a GPU the order is not defined. (No kernel of ours writes a byte twice, or reads
/// what its own launch writes: a device input that an output overlaps is read from a copy.)
std::string global_race(std::vector<GlobalAccess> &accesses, unsigned ntid) {
  std::vector<GlobalAccess> stores;
  std::uint8_t widest = 1;
  for (const GlobalAccess &a : accesses)
    if (a.store) {
      stores.push_back(a);
      widest = std::max(widest, a.bytes);
    }
  auto by_address = [](const GlobalAccess &a, const GlobalAccess &b) { return a.at < b.at; };
  // One entry per store a thread repeats in one barrier interval (a kernel that accumulates
  // in global memory in a loop), or every access to that address would walk all of them.
  auto key = [](const GlobalAccess &a) { return std::tie(a.at, a.thread, a.epoch, a.bytes); };
  std::sort(stores.begin(), stores.end(),
            [&](const GlobalAccess &a, const GlobalAccess &b) { return key(a) < key(b); });
  stores.erase(
      std::unique(stores.begin(), stores.end(),
                  [&](const GlobalAccess &a, const GlobalAccess &b) { return key(a) == key(b); }),
      stores.end());
  // Each access against the stores that begin at most `widest` bytes before it: every store
  // that overlaps it is among them.
  for (const GlobalAccess &a : accesses) {
    const std::uint64_t from = a.at >= widest ? a.at - widest + 1 : 0;
    auto s = std::lower_bound(stores.begin(), stores.end(), GlobalAccess{from, 0, 0, 0, true},
                              by_address);
    for (; s != stores.end() && s->at < a.at + a.bytes; ++s) {
      if (s->at + s->bytes <= a.at || ordered(*s, a, ntid) || (a.store && s->thread < a.thread))
        continue; // (a pair of stores is reported once, from its lower thread)
      return "global memory race: " + who(a.thread, ntid) + (a.store ? " stores to" : " loads") +
             " a byte that " + who(s->thread, ntid) + " stores to in the same launch";
    }
  }
  return {};
}

struct Block {
  const Entry &e;
  void **args;
  unsigned ctaid, nctaid, ntid;
  std::vector<unsigned char> shared;
  std::vector<Thread> threads;
  std::uint64_t executed = 0;
  std::uint64_t shuffles = 0; ///< warp shuffles completed
  bool count_loads = false;
  /// Race detection on shared memory. Threads run one after another here, so a missing
  /// bar.sync may still give the right bits; on a GPU the warps interleave. Each byte keeps the
  /// thread that last wrote it and the one that last read it (kMany: several), with the barrier
  /// epoch of each; two threads touching a byte in one epoch, one of them writing, is a race.
  static constexpr std::uint32_t kMany = 0xffffffffu;
  std::uint32_t epoch = 1;
  std::vector<std::uint32_t> writer{}, write_epoch{}, reader{}, read_epoch{};
  std::vector<GlobalAccess> *global_accesses = nullptr; ///< the launch's, for global_race

  /// A global (or generic) access of thread `tid`, outside its local memory, kept for
  /// global_race.
  void note_global(const Thread &t, const void *m, int bytes, unsigned tid, bool store) {
    const auto at = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m));
    if (global_accesses && !in_local(t, at))
      global_accesses->push_back(
          {at, std::uint64_t{ctaid} * ntid + tid, epoch, static_cast<std::uint8_t>(bytes), store});
  }

  void check_shared(const Inst &in, unsigned tid, std::uint64_t at, int bytes, bool store) {
    if (writer.empty()) {
      writer.assign(shared.size(), 0);
      write_epoch.assign(shared.size(), 0);
      reader.assign(shared.size(), 0);
      read_epoch.assign(shared.size(), 0);
    }
    const std::uint32_t me = tid + 1;
    for (std::uint64_t b = at; b < at + static_cast<std::uint64_t>(bytes); ++b) {
      const char *what = nullptr;
      std::uint32_t other = 0;
      if (write_epoch[b] == epoch && writer[b] != me) {
        what = store ? "writes" : "reads";
        other = writer[b];
      } else if (store && read_epoch[b] == epoch && reader[b] != me) {
        what = "writes";
        other = reader[b];
      }
      if (what)
        throw Fail(fmt_race(in, tid, what, b, other, write_epoch[b] == epoch && writer[b] != me));
      if (store) {
        writer[b] = me;
        write_epoch[b] = epoch;
      } else if (read_epoch[b] != epoch) {
        reader[b] = me;
        read_epoch[b] = epoch;
      } else if (reader[b] != me) {
        reader[b] = kMany;
      }
    }
  }
  static std::string fmt_race(const Inst &in, unsigned tid, const char *what, std::uint64_t b,
                              std::uint32_t other, bool other_wrote) {
    const std::string who =
        other == kMany ? std::string("other threads") : "thread " + std::to_string(other - 1);
    return "shared memory race: thread " + std::to_string(tid) + " " + what + " byte " +
           std::to_string(b) + ", which " + who + (other_wrote ? " wrote" : " read") +
           " with no bar.sync between, in '" + in.text + "'";
  }

  std::uint64_t read(const Thread &t, const Operand &o, unsigned tid) const {
    switch (o.kind) {
    case OpKind::Reg: {
      std::uint64_t v = t.r[static_cast<std::size_t>(o.reg)];
      return o.negate ? !v : v;
    }
    case OpKind::Imm:
      return o.imm;
    case OpKind::Special:
      switch (o.special) {
      case 0:
        return tid;
      case 1:
        return ntid;
      case 2:
        return ctaid;
      case 3:
        return nctaid;
      case 4:
        return tid % 32;
      case 5:
        return 0;
      default:
        return 1;
      }
    case OpKind::Sym:
      if (o.sym_local)
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(t.local.data())) +
               static_cast<std::uint64_t>(e.local_offset[static_cast<std::size_t>(o.sym)]);
      return static_cast<std::uint64_t>(e.shared_offset[static_cast<std::size_t>(o.sym)]);
    default:
      throw Fail("operand is not a value");
    }
  }

  /// The address of an Addr operand: a host address (global), or an offset into shared memory.
  std::uint64_t address(const Thread &t, const Operand &o, char space) const {
    std::uint64_t a = static_cast<std::uint64_t>(o.offset);
    if (o.reg >= 0) a += t.r[static_cast<std::size_t>(o.reg)];
    if (o.sym >= 0 && o.sym_local)
      a += static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(t.local.data())) +
           static_cast<std::uint64_t>(e.local_offset[static_cast<std::size_t>(o.sym)]);
    else if (o.sym >= 0 && !o.sym_param && space == 's')
      a += static_cast<std::uint64_t>(e.shared_offset[static_cast<std::size_t>(o.sym)]);
    return a;
  }

  /// Whether [a, a + n) lies in the thread's local buffer (.local and call .param variables).
  static bool in_local(const Thread &t, std::uint64_t a, std::uint64_t n = 1) {
    const auto lo = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(t.local.data()));
    return a >= lo && a + n <= lo + t.local.size();
  }
  /// Whether [a, a + n) lies in memory the simulator itself gives a launch: the thread's local
  /// buffer or one of the module's .global arrays.
  bool inside_own(const Thread &t, std::uint64_t a, std::uint64_t n) const {
    if (in_local(t, a, n)) return true;
    for (const auto &[at, size] : e.module_arrays)
      if (a >= at && a + n <= at + size) return true;
    return false;
  }

  void *memory(const Thread &t, const Inst &in, const Operand &o, int bytes, unsigned tid,
               bool store) {
    const std::uint64_t a = address(t, o, in.space);
    // A GPU faults on an access not aligned to its whole size (a v4.f32 load to 16 bytes:
    // CUDA_ERROR_MISALIGNED_ADDRESS); host memory would not.
    if (a % static_cast<std::uint64_t>(bytes) != 0)
      throw Fail("misaligned address: a " + std::to_string(bytes) + "-byte access at " +
                 (in.space == 's' ? "shared offset " : "") + std::to_string(a) + " in '" + in.text +
                 "'");
    if (in.space == 's') {
      if (a + static_cast<std::uint64_t>(bytes) > shared.size())
        throw Fail("shared memory access out of bounds in '" + in.text + "'");
      check_shared(in, tid, a, bytes, store);
      return shared.data() + a;
    }
    if (a < 4096)
      throw Fail("a global access to address " + std::to_string(a) + " in '" + in.text + "'");
    if (g_global_check && !inside_own(t, a, static_cast<std::uint64_t>(bytes)) &&
        !g_global_check(a, static_cast<std::uint64_t>(bytes)))
      throw Fail("out of bounds: a " + std::to_string(bytes) + "-byte global access at " +
                 std::to_string(a) + ", outside every device allocation, in '" + in.text + "'");
    return reinterpret_cast<void *>(static_cast<std::uintptr_t>(a));
  }

  static void write(Thread &t, const Operand &o, std::uint64_t v, int bits) {
    if (o.kind == OpKind::Sink) return;
    if (o.kind != OpKind::Reg) throw Fail("destination is not a register");
    t.r[static_cast<std::size_t>(o.reg)] = bits == 1 ? (v != 0) : (v & mask_of(bits));
  }

  void run(Thread &t, unsigned tid);
  std::string go();
};

/// Float operations in the instruction's width (f32 or f64; f16 values are computed as f32).
template <typename F>
std::uint64_t float_op(const Ty &ty, std::uint64_t a, std::uint64_t b, std::uint64_t c, bool ftz,
                       F f) {
  if (ty.k != 'f' || ty.bits == 16) throw Fail("16-bit float arithmetic");
  if (ty.bits == 64) return bits_of(static_cast<double>(f(f64_of(a), f64_of(b), f64_of(c))));
  auto flush = [&](float x) {
    return ftz && std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x;
  };
  if (ty.bits == 32)
    return bits_of(
        flush(static_cast<float>(f(flush(f32_of(a)), flush(f32_of(b)), flush(f32_of(c))))));
  throw Fail("16-bit float arithmetic");
}

double unary(Base fn, double x) {
  switch (fn) {
  case Base::Sqrt:
    return std::sqrt(x);
  case Base::Rcp:
    return 1.0 / x;
  case Base::Ex2:
    return std::exp2(x);
  case Base::Lg2:
    return std::log2(x);
  case Base::Rsqrt:
    return 1.0 / std::sqrt(x);
  case Base::Sin:
    return std::sin(x);
  case Base::Cos:
    return std::cos(x);
  case Base::Tanh:
    return std::tanh(x);
  default:
    throw Fail("not a one-operand float function");
  }
}

/// add/sub/mul/div/fma in T under the current C rounding mode (so no constant folding or
/// reordering across fesetround: FENV_ACCESS).
template <typename T> T arith(Base op, T x, T y, T z) {
#pragma STDC FENV_ACCESS ON
  return op == Base::Add   ? x + y
         : op == Base::Sub ? x - y
         : op == Base::Mul ? x * y
         : op == Base::Div ? x / y
                           : std::fma(x, y, z);
}

/// add/sub/mul/div/fma of f32 or f64 with a directed rounding (.rm .rp .rz), computed in the
/// instruction's own width under that C rounding mode.
std::uint64_t directed(Base op, const Ty &ty, std::uint64_t a, std::uint64_t b, std::uint64_t c,
                       const std::string &round) {
#pragma STDC FENV_ACCESS ON
  const int mode = round == "rm" ? FE_DOWNWARD : round == "rp" ? FE_UPWARD : FE_TOWARDZERO;
  const int old = std::fegetround();
  std::fesetround(mode);
  const std::uint64_t r = ty.bits == 64 ? bits_of(arith(op, f64_of(a), f64_of(b), f64_of(c)))
                                        : bits_of(arith(op, f32_of(a), f32_of(b), f32_of(c)));
  std::fesetround(old);
  return r;
}

/// .sat on floats: clamped to [0, 1], NaN to 0.
std::uint64_t saturate(const Ty &ty, std::uint64_t v) {
  const double x = ty.bits == 64 ? f64_of(v) : f32_of(v);
  const double y = std::isnan(x) ? 0.0 : std::min(1.0, std::max(0.0, x));
  if (y == x && !(x == 0 && std::signbit(x))) return v;
  return ty.bits == 64 ? bits_of(y) : bits_of(static_cast<float>(y));
}

bool compare(int cmp, const Ty &ty, std::uint64_t a, std::uint64_t b) {
  if (ty.k == 'f' || ty.k == 'h') {
    auto fl = [&](std::uint64_t v) {
      return ty.bits == 64 ? f64_of(v) : ty.bits == 32 ? f32_of(v) : half_to_double(v, ty.k == 'h');
    };
    const double x = fl(a), y = fl(b);
    const bool un = std::isnan(x) || std::isnan(y);
    switch (cmp) {
    case EQ:
      return !un && x == y;
    case NE:
      return !un && x != y;
    case LT:
      return !un && x < y;
    case LE:
      return !un && x <= y;
    case GT:
      return !un && x > y;
    case GE:
      return !un && x >= y;
    case EQU:
      return un || x == y;
    case NEU:
      return un || x != y;
    case LTU:
      return un || x < y;
    case LEU:
      return un || x <= y;
    case GTU:
      return un || x > y;
    case GEU:
      return un || x >= y;
    case NUM:
      return !un;
    case NAN_:
      return un;
    default:
      throw Fail("setp." + kCmps[static_cast<std::size_t>(cmp)] + " on floats");
    }
  }
  if (ty.k == 'x') throw Fail("setp on f16x2");
  if (ty.k == 'p') {
    a = a != 0;
    b = b != 0;
  }
  const bool sgn = ty.k == 's';
  const std::int64_t sa = sext(a, ty.bits), sb = sext(b, ty.bits);
  const std::uint64_t ua = a & mask_of(ty.bits), ub = b & mask_of(ty.bits);
  switch (cmp) {
  case EQ:
    return ua == ub;
  case NE:
    return ua != ub;
  case LT:
    return sgn ? sa < sb : ua < ub;
  case LE:
    return sgn ? sa <= sb : ua <= ub;
  case GT:
    return sgn ? sa > sb : ua > ub;
  case GE:
    return sgn ? sa >= sb : ua >= ub;
  case LO:
    return ua < ub;
  case LS:
    return ua <= ub;
  case HI:
    return ua > ub;
  case HS:
    return ua >= ub;
  default:
    throw Fail("setp." + kCmps[static_cast<std::size_t>(cmp)] + " on integers");
  }
}

double round_mode(double x, const std::string &r) {
  if (r == "rzi" || r == "rz") return std::trunc(x);
  if (r == "rmi" || r == "rm") return std::floor(x);
  if (r == "rpi" || r == "rp") return std::ceil(x);
  return std::nearbyint(x); // rni / rn: to nearest even
}

/// cvt.dst.src.
std::uint64_t convert(const Inst &in, std::uint64_t v) {
  const Ty &d = in.types.at(0), &s = in.types.at(1);
  if (d.k == 'x' || s.k == 'x') throw Fail("cvt of f16x2: '" + in.text + "'");
  const bool df = d.k == 'f' || d.k == 'h', sf = s.k == 'f' || s.k == 'h';
  auto to_double = [&](std::uint64_t x) {
    if (s.bits == 64) return f64_of(x);
    if (s.bits == 32) return static_cast<double>(f32_of(x));
    return half_to_double(x, s.k == 'h');
  };
  if (!sf && !df) { // integer to integer: sign or zero extension, or truncation
    std::uint64_t x =
        s.k == 's' ? static_cast<std::uint64_t>(sext(v, s.bits)) : (v & mask_of(s.bits));
    if (in.sat) {
      const double lo = d.k == 's' ? -std::ldexp(1.0, d.bits - 1) : 0;
      const double hi = d.k == 's' ? std::ldexp(1.0, d.bits - 1) - 1 : std::ldexp(1.0, d.bits) - 1;
      const double xv =
          s.k == 's' ? static_cast<double>(static_cast<std::int64_t>(x)) : static_cast<double>(x);
      if (xv < lo) x = static_cast<std::uint64_t>(static_cast<std::int64_t>(lo));
      if (xv > hi)
        x = d.k == 's' ? static_cast<std::uint64_t>(static_cast<std::int64_t>(hi))
                       : mask_of(d.bits);
    }
    return x & mask_of(d.bits);
  }
  if (sf && !df) { // float to integer: rounded as asked, saturated, NaN to 0
    double x = round_mode(to_double(v), in.round.empty() ? "rzi" : in.round);
    if (std::isnan(x)) return 0;
    if (d.k == 's') {
      const double lo = -std::ldexp(1.0, d.bits - 1), hi = std::ldexp(1.0, d.bits - 1);
      if (x < lo)
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(lo)) & mask_of(d.bits);
      if (x >= hi) return (mask_of(d.bits) >> 1);
      return static_cast<std::uint64_t>(static_cast<std::int64_t>(x)) & mask_of(d.bits);
    }
    if (x <= 0) return 0;
    if (x >= std::ldexp(1.0, d.bits)) return mask_of(d.bits);
    return static_cast<std::uint64_t>(x);
  }
  if (!sf && df) { // integer to float, rounded to nearest (the only mode our code asks for)
    if (!in.round.empty() && in.round != "rn") throw Fail("cvt." + in.round + " from an integer");
    if (d.bits == 64)
      return bits_of(s.k == 's' ? static_cast<double>(sext(v, s.bits))
                                : static_cast<double>(v & mask_of(s.bits)));
    if (d.bits == 32)
      return bits_of(s.k == 's' ? static_cast<float>(sext(v, s.bits))
                                : static_cast<float>(v & mask_of(s.bits)));
    // To a half: one rounding from the exact value (|x| < 2^53 for the sizes that reach here).
    const double x = s.k == 's' ? static_cast<double>(sext(v, s.bits))
                                : static_cast<double>(v & mask_of(s.bits));
    return double_to_half(x, d.k == 'h');
  }
  // float to float (.sat clamps to [0, 1], NaN to 0)
  if (in.sat && d.k == 'f' && d.bits >= 32) {
    Inst plain = in;
    plain.sat = false;
    return saturate(d, convert(plain, v));
  }
  const double x = to_double(v);
  if (in.round == "rni" || in.round == "rzi" || in.round == "rmi" || in.round == "rpi") {
    const double r = round_mode(x, in.round);
    return d.bits == 64 ? bits_of(r) : bits_of(static_cast<float>(r));
  }
  if (d.bits == 64) return bits_of(x);
  if (d.bits == 32) {
    if (s.bits == 64 && !in.round.empty() && in.round != "rn")
      throw Fail("cvt." + in.round + ".f32.f64");
    float f = static_cast<float>(x);
    if (std::isnan(x))
      f = std::signbit(x) ? -std::numeric_limits<float>::quiet_NaN()
                          : std::numeric_limits<float>::quiet_NaN();
    if (in.ftz && std::fpclassify(f) == FP_SUBNORMAL) f = std::copysign(0.0f, f);
    return bits_of(f);
  }
  return double_to_half(x, d.k == 'h');
}

void Block::run(Thread &t, unsigned tid) {
  const std::vector<Inst> &code = e.code;
  while (t.state == State::Run) {
    if (t.pc < 0 || t.pc >= static_cast<int>(code.size()))
      throw Fail("fell off the end of the kernel");
    const Inst &in = code[static_cast<std::size_t>(t.pc)];
    if (++executed > (1ull << 36)) throw Fail("more than 2^36 instructions in one block");
    if (in.pred >= 0 && (t.r[static_cast<std::size_t>(in.pred)] != 0) == in.pred_neg) {
      ++t.pc;
      continue;
    }
    const Ty ty = in.types.empty() ? Ty{} : in.types.back();
    auto val = [&](std::size_t i) { return read(t, in.ops.at(i), tid); };
    const std::vector<Operand> &o = in.ops;
    switch (in.base) {
    case Base::Ld: {
      const int bytes = ty.bits / 8;
      const int one[1] = {o.at(0).reg};
      const bool vec = o[0].kind == OpKind::Vec;
      const int *dst = vec ? o[0].regs.data() : one;
      const std::size_t ndst = vec ? o[0].regs.size() : 1;
      if (in.space == 'p' && o.at(1).sym_param) { // a kernel parameter (else a call's variable)
        const int p = o.at(1).sym;
        std::uint64_t v = 0;
        std::memcpy(&v, static_cast<const char *>(args[p]) + o[1].offset,
                    static_cast<std::size_t>(bytes));
        t.r[static_cast<std::size_t>(dst[0])] =
            ty.k == 's' ? static_cast<std::uint64_t>(sext(v, ty.bits)) : v;
        break;
      }
      const char *m = static_cast<const char *>(memory(t, in, o.at(1), bytes * in.vec, tid, false));
      const auto at = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m));
      if (count_loads && in.space == 'g' && !in_local(t, at))
        t.loads.emplace_back(at / 32, (at + static_cast<std::uint64_t>(bytes * in.vec) - 1) / 32);
      if (in.space != 's') note_global(t, m, bytes * in.vec, tid, false);
      for (std::size_t k = 0; k < ndst; ++k) {
        std::uint64_t v = 0;
        std::memcpy(&v, m + k * static_cast<std::size_t>(bytes), static_cast<std::size_t>(bytes));
        if (ty.k == 's') v = static_cast<std::uint64_t>(sext(v, ty.bits));
        if (dst[k] >= 0) t.r[static_cast<std::size_t>(dst[k])] = v;
      }
      break;
    }
    case Base::St: {
      const int bytes = ty.bits / 8;
      char *m = static_cast<char *>(memory(t, in, o.at(0), bytes * in.vec, tid, true));
      if (in.space != 's') note_global(t, m, bytes * in.vec, tid, true);
      if (o.at(1).kind == OpKind::Vec) {
        for (std::size_t k = 0; k < o[1].regs.size(); ++k) {
          const std::uint64_t v = t.r[static_cast<std::size_t>(o[1].regs[k])];
          std::memcpy(m + k * static_cast<std::size_t>(bytes), &v, static_cast<std::size_t>(bytes));
        }
      } else {
        const std::uint64_t v = val(1);
        std::memcpy(m, &v, static_cast<std::size_t>(bytes));
      }
      break;
    }
    case Base::Mov:
    case Base::Cvta: {
      if (o.at(0).kind == OpKind::Vec) { // unpack: low half first
        const int half = ty.bits / static_cast<int>(o[0].regs.size());
        const std::uint64_t v = val(1);
        for (std::size_t k = 0; k < o[0].regs.size(); ++k)
          if (o[0].regs[k] >= 0)
            t.r[static_cast<std::size_t>(o[0].regs[k])] =
                (v >> (k * static_cast<std::size_t>(half))) & mask_of(half);
      } else if (o.at(1).kind == OpKind::Vec) { // pack
        const int half = ty.bits / static_cast<int>(o[1].regs.size());
        std::uint64_t v = 0;
        for (std::size_t k = 0; k < o[1].regs.size(); ++k)
          v |= (t.r[static_cast<std::size_t>(o[1].regs[k])] & mask_of(half))
               << (k * static_cast<std::size_t>(half));
        write(t, o[0], v, ty.bits);
      } else {
        write(t, o[0], val(1), ty.bits);
      }
      break;
    }
    case Base::Cvt: {
      // A signed integer result narrower than its register is sign-extended to it (cvt.s8.s32
      // into a 16-bit register), which later .s16 comparisons rely on; others are zero-filled.
      const Ty &d = in.types.at(0);
      const std::uint64_t v = convert(in, val(1));
      if (d.k == 's')
        write(t, o.at(0), static_cast<std::uint64_t>(sext(v, d.bits)), 64);
      else
        write(t, o.at(0), v, d.bits);
      break;
    }
    case Base::Add:
    case Base::Sub:
    case Base::Mul:
    case Base::Mad:
    case Base::Fma:
    case Base::Div:
    case Base::Rem:
    case Base::Min:
    case Base::Max: {
      const std::uint64_t a = val(1), b = val(2), c = o.size() > 3 ? val(3) : 0;
      std::uint64_t r = 0;
      if (ty.k == 'f' || ty.k == 'h') {
        if (ty.bits == 16) throw Fail("16-bit float arithmetic: '" + in.text + "'");
        const bool f64 = ty.bits == 64;
        auto fmin = [&](double x, double y, bool is_max) {
          if (std::isnan(x) && std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
          if (std::isnan(x)) return y;
          if (std::isnan(y)) return x;
          if (x == y) return (std::signbit(x) != is_max) ? x : y; // -0 < +0
          return (x < y) != is_max ? x : y;
        };
        const bool dir = in.round == "rm" || in.round == "rp" || in.round == "rz";
        if (dir && (in.base == Base::Min || in.base == Base::Max))
          throw Fail("a rounding mode on min/max: '" + in.text + "'");
        if (dir && ty.bits == 16) throw Fail("16-bit float arithmetic");
        switch (dir ? Base::Nop : in.base) {
        case Base::Nop:
          r = directed(in.base, ty, a, b, c, in.round);
          break;
        case Base::Add:
          r = float_op(ty, a, b, c, in.ftz, [](double x, double y, double) { return x + y; });
          break;
        case Base::Sub:
          r = float_op(ty, a, b, c, in.ftz, [](double x, double y, double) { return x - y; });
          break;
        case Base::Mul:
          r = float_op(ty, a, b, c, in.ftz, [](double x, double y, double) { return x * y; });
          break;
        case Base::Div:
          r = float_op(ty, a, b, c, in.ftz, [](double x, double y, double) { return x / y; });
          break;
        case Base::Min:
          r = float_op(ty, a, b, c, in.ftz,
                       [&](double x, double y, double) { return fmin(x, y, false); });
          break;
        case Base::Max:
          r = float_op(ty, a, b, c, in.ftz,
                       [&](double x, double y, double) { return fmin(x, y, true); });
          break;
        case Base::Fma:
        case Base::Mad:
          // One rounding: fma in the instruction's own width.
          r = f64 ? bits_of(std::fma(f64_of(a), f64_of(b), f64_of(c)))
                  : bits_of(std::fma(f32_of(a), f32_of(b), f32_of(c)));
          break;
        default:
          throw Fail("unsupported float instruction '" + in.text + "'");
        }
        // Float products and quotients in f32 are exact in double before the one rounding to f32
        // for +, -, *; the quotient too (53 >= 2 * 24 + 2), so double rounding does not occur.
        if (in.sat) r = saturate(ty, r);
        write(t, o[0], r, ty.bits);
        break;
      }
      if (ty.k == 'x') throw Fail("f16x2 arithmetic: '" + in.text + "'");
      const int bits = ty.bits;
      const bool sgn = ty.k == 's';
      const std::int64_t sa = sext(a, bits), sb = sext(b, bits);
      const std::uint64_t ua = a & mask_of(bits), ub = b & mask_of(bits);
      int out_bits = bits;
      // Carry chains (add.cc, addc, sub.cc, subc, mad.cc, madc): CF is the carry out of the
      // addition (for sub, the borrow), in the type's width.
      const std::uint64_t cin = in.carry_in ? t.cf : 0;
      using u128 = unsigned __int128;
      switch (in.base) {
      case Base::Add: {
        const u128 w = static_cast<u128>(ua) + ub + cin;
        r = static_cast<std::uint64_t>(w);
        if (in.cc) t.cf = static_cast<std::uint64_t>(w >> bits) & 1;
        break;
      }
      case Base::Sub:
        r = ua - ub - cin;
        if (in.cc) t.cf = static_cast<u128>(ua) < static_cast<u128>(ub) + cin;
        break;
      case Base::Mul:
      case Base::Mad: {
        if (in.wide) {
          r = sgn ? static_cast<std::uint64_t>(sa * sb) : ua * ub;
          out_bits = 2 * bits;
        } else if (in.hi) {
          if (bits == 64) {
            r = sgn ? static_cast<std::uint64_t>((static_cast<__int128>(sa) * sb) >> 64)
                    : static_cast<std::uint64_t>((static_cast<unsigned __int128>(ua) * ub) >> 64);
          } else {
            r = sgn ? static_cast<std::uint64_t>((sa * sb) >> bits) : (ua * ub) >> bits;
          }
        } else {
          r = ua * ub;
        }
        if (in.base == Base::Mad) {
          const u128 w = static_cast<u128>(r & mask_of(out_bits)) + (c & mask_of(out_bits)) + cin;
          r = static_cast<std::uint64_t>(w);
          if (in.cc) t.cf = static_cast<std::uint64_t>(w >> out_bits) & 1;
        }
        break;
      }
      case Base::Div:
        if (ub == 0)
          r = ~0ull;
        else if (sgn)
          r = (sa == std::numeric_limits<std::int64_t>::min() >> (64 - bits) && sb == -1)
                  ? static_cast<std::uint64_t>(sa)
                  : static_cast<std::uint64_t>(sa / sb);
        else
          r = ua / ub;
        break;
      case Base::Rem:
        if (ub == 0)
          r = ua;
        else if (sgn)
          r = sb == -1 ? 0 : static_cast<std::uint64_t>(sa % sb);
        else
          r = ua % ub;
        break;
      case Base::Min:
        r = sgn ? static_cast<std::uint64_t>(sa < sb ? sa : sb) : (ua < ub ? ua : ub);
        break;
      case Base::Max:
        r = sgn ? static_cast<std::uint64_t>(sa > sb ? sa : sb) : (ua > ub ? ua : ub);
        break;
      default:
        break;
      }
      write(t, o[0], r, out_bits);
      break;
    }
    case Base::Abs:
    case Base::Neg: {
      const std::uint64_t a = val(1);
      if (ty.k == 'f' || ty.k == 'h' || ty.k == 'x') { // the sign bit(s), halves included
        const std::uint64_t sign = ty.k == 'x' ? 0x80008000ull : 1ull << (ty.bits - 1);
        write(t, o[0], in.base == Base::Neg ? a ^ sign : a & ~sign, ty.bits);
      } else {
        const std::int64_t s = sext(a, ty.bits);
        const std::uint64_t neg = 0 - static_cast<std::uint64_t>(s); // wraps, as the GPU's
        write(t, o[0], in.base == Base::Neg || s < 0 ? neg : static_cast<std::uint64_t>(s),
              ty.bits);
      }
      break;
    }
    case Base::And:
      write(t, o[0], val(1) & val(2), ty.bits);
      break;
    case Base::Or:
      write(t, o[0], val(1) | val(2), ty.bits);
      break;
    case Base::Xor:
      write(t, o[0], val(1) ^ val(2), ty.bits);
      break;
    case Base::Not:
      write(t, o[0], ty.k == 'p' ? !val(1) : ~val(1), ty.bits);
      break;
    case Base::Shl: {
      const std::uint64_t n = val(2) & 0xffffffffu;
      write(t, o[0], n >= static_cast<std::uint64_t>(ty.bits) ? 0 : val(1) << n, ty.bits);
      break;
    }
    case Base::Shr: {
      const std::uint64_t n = val(2) & 0xffffffffu;
      if (ty.k == 's') {
        const std::int64_t s = sext(val(1), ty.bits);
        write(t, o[0],
              static_cast<std::uint64_t>(n >= static_cast<std::uint64_t>(ty.bits) ? (s < 0 ? -1 : 0)
                                                                                  : s >> n),
              ty.bits);
      } else {
        const std::uint64_t u = val(1) & mask_of(ty.bits);
        write(t, o[0], n >= static_cast<std::uint64_t>(ty.bits) ? 0 : u >> n, ty.bits);
      }
      break;
    }
    // One-operand float functions. The .approx instructions' bits are the hardware's own
    // (documented only as an error bound): the C library's values stand in for them, so
    // kernels that use them are never compared bit for bit with a real GPU.
    case Base::Sqrt:
    case Base::Rcp:
    case Base::Ex2:
    case Base::Lg2:
    case Base::Rsqrt:
    case Base::Sin:
    case Base::Cos:
    case Base::Tanh: {
      const Base fn = in.base;
      write(t, o[0],
            float_op(ty, val(1), 0, 0, in.ftz,
                     [fn](double x, double, double) { return unary(fn, x); }),
            ty.bits);
      break;
    }
    case Base::Copysign:
      write(t, o[0],
            float_op(ty, val(1), val(2), 0, false,
                     [](double s, double x, double) { return std::copysign(x, s); }),
            ty.bits);
      break;
    case Base::Setp: {
      bool p = compare(in.cmpc, ty, val(1), val(2));
      bool q = !p;
      if (in.boolc) {
        const bool c = val(3) != 0;
        p = in.boolc == 1 ? p && c : in.boolc == 2 ? p || c : p != c;
        q = in.boolc == 1 ? q && c : in.boolc == 2 ? q || c : q != c;
      }
      write(t, o[0], p, 1);
      if (o[0].second >= 0) t.r[static_cast<std::size_t>(o[0].second)] = q;
      break;
    }
    case Base::Selp:
      write(t, o[0], val(3) ? val(1) : val(2), ty.bits);
      break;
    case Base::Clz:
    case Base::Popc: { // the count, a u32, of leading zeros or of set bits
      const std::uint64_t a = val(1) & mask_of(ty.bits);
      std::uint64_t c = 0;
      if (in.base == Base::Popc)
        c = static_cast<std::uint64_t>(__builtin_popcountll(a));
      else
        c = a == 0 ? static_cast<std::uint64_t>(ty.bits)
                   : static_cast<std::uint64_t>(__builtin_clzll(a) - (64 - ty.bits));
      write(t, o[0], c, 32);
      break;
    }
    case Base::Bfe: { // bit field extract (PTX ISA): len bits from pos, sign-filled for .s
      const std::uint64_t a = val(1);
      const unsigned pos = val(2) & 0xff, len = val(3) & 0xff,
                     msb = static_cast<unsigned>(ty.bits) - 1;
      const std::uint64_t sbit =
          ty.k == 's' && len > 0 ? (a >> std::min(pos + len - 1, msb)) & 1 : 0;
      std::uint64_t d = 0;
      for (unsigned i = 0; i <= msb; ++i) {
        const std::uint64_t bit = i < len && pos + i <= msb ? (a >> (pos + i)) & 1 : sbit;
        d |= bit << i;
      }
      write(t, o[0], d, ty.bits);
      break;
    }
    case Base::Bfi: { // bit field insert: a's low len bits into b at pos
      const std::uint64_t a = val(1), b = val(2);
      const unsigned pos = val(3) & 0xff, len = val(4) & 0xff;
      std::uint64_t d = b;
      for (unsigned i = 0; i < len && pos + i < static_cast<unsigned>(ty.bits); ++i)
        d = (d & ~(1ull << (pos + i))) | (((a >> i) & 1) << (pos + i));
      write(t, o[0], d, ty.bits);
      break;
    }
    case Base::Bra:
      t.pc = in.target;
      continue;
    case Base::Shfl:
      t.shfl_a = val(1);
      t.shfl_b = val(2);
      t.shfl_c = val(3);
      t.shfl_mask = val(4);
      t.state = State::Shfl;
      return; // pc stays: the scheduler completes it
    case Base::Bar:
      t.state = State::Bar;
      return;
    case Base::Ret:
      t.state = State::Done;
      return;
    case Base::Nop:
      break;
    }
    ++t.pc;
  }
}

std::string Block::go() {
  const std::size_t nw = (threads.size() + 31) / 32;
  for (;;) {
    for (std::size_t i = 0; i < threads.size(); ++i)
      if (threads[i].state == State::Run) run(threads[i], static_cast<unsigned>(i));
    bool progressed = false;
    for (std::size_t w = 0; w < nw; ++w) {
      const std::size_t lo = w * 32, hi = std::min(threads.size(), lo + 32);
      bool all = true, any = false;
      for (std::size_t i = lo; i < hi; ++i) {
        if (threads[i].state == State::Done) continue;
        any = true;
        all = all && threads[i].state == State::Shfl;
      }
      if (!any || !all) continue;
      // shfl.sync.mode.b32 d[|p], a, b, c, membermask (PTX ISA): each lane reads lane j's a.
      // Stricter than the hardware where that hides a bug: every lane at the shuffle must be in
      // the membermask they all give, with the same mode, and no lane may read an exited lane
      // (or one past the block), whose value the ISA leaves undefined.
      std::uint64_t got[32];
      bool ok[32];
      int mode = -1;
      std::uint64_t mask = 0;
      for (std::size_t i = lo; i < hi; ++i) {
        Thread &t = threads[i];
        if (t.state != State::Shfl) continue;
        const Inst &in = e.code[static_cast<std::size_t>(t.pc)];
        const unsigned lane = static_cast<unsigned>(i - lo);
        if (mode < 0) {
          mode = in.modec;
          mask = t.shfl_mask & 0xffffffffu;
        }
        if (in.modec != mode || (t.shfl_mask & 0xffffffffu) != mask)
          return "divergent shuffle: the lanes of a warp meet at shuffles of different modes or "
                 "membermasks";
        if (!((mask >> lane) & 1))
          return "shuffle outside its membermask: lane " + std::to_string(lane) + " is not in it";
        const unsigned bval = t.shfl_b & 31, cval = t.shfl_c & 31, segmask = (t.shfl_c >> 8) & 31;
        const unsigned maxlane = (lane & segmask) | (cval & ~segmask), minlane = lane & segmask;
        unsigned j = lane;
        bool pval;
        if (in.modec == 0) { // down
          j = lane + bval;
          pval = j <= maxlane;
        } else if (in.modec == 1) { // up
          j = lane - bval;
          pval = static_cast<int>(j) >= static_cast<int>(minlane);
        } else if (in.modec == 2) { // bfly
          j = lane ^ bval;
          pval = j <= maxlane;
        } else {
          j = minlane | (bval & ~segmask);
          pval = j <= maxlane;
        }
        if (pval && (lo + j >= hi || threads[lo + j].state != State::Shfl))
          return "shuffle from an exited lane: lane " + std::to_string(lane) + " reads lane " +
                 std::to_string(j) + ", whose value the ISA leaves undefined";
        if (!pval) j = lane;
        got[lane] = threads[lo + j].shfl_a & 0xffffffffu;
        ok[lane] = pval;
      }
      for (std::size_t i = lo; i < hi; ++i) {
        Thread &t = threads[i];
        if (t.state != State::Shfl) continue;
        const Inst &in = e.code[static_cast<std::size_t>(t.pc)];
        write(t, in.ops.at(0), got[i - lo], 32);
        if (in.ops[0].second >= 0) t.r[static_cast<std::size_t>(in.ops[0].second)] = ok[i - lo];
        t.state = State::Run;
        ++t.pc;
      }
      ++shuffles;
      progressed = true;
    }
    if (progressed) continue;
    bool alive = false, all_bar = true, aligned = false;
    int pc = -1;
    bool same_pc = true;
    for (const Thread &t : threads) {
      if (t.state == State::Done) continue; // exited threads release barriers (PTX ISA, exit)
      alive = true;
      all_bar = all_bar && t.state == State::Bar;
      if (t.state != State::Bar) continue;
      aligned = aligned || e.code[static_cast<std::size_t>(t.pc)].aligned;
      same_pc = same_pc && (pc < 0 || pc == t.pc);
      pc = t.pc;
    }
    if (!alive) return {};
    if (!all_bar)
      return "deadlock: threads wait at a shuffle that not every lane of their warp reaches";
    // bar.sync is barrier.sync.aligned: every thread must execute the same one. Threads meeting
    // at different ones is the divergent barrier that is undefined on the hardware.
    if (aligned && !same_pc)
      return "divergent barrier: threads of the block wait at different bar.sync instructions";
    for (Thread &t : threads)
      if (t.state == State::Bar) {
        t.state = State::Run;
        ++t.pc;
      }
    ++epoch; // accesses on either side of a barrier never race
  }
}

std::mutex g_mu;
std::map<std::pair<std::size_t, std::string>, std::shared_ptr<const Entry>> g_entries;

/// Adds a block's global loads to `stats`: the k-th load of each lane of a warp is one request.
void count_requests(const std::vector<Thread> &threads, LaunchStats &stats) {
  for (std::size_t w = 0; w < threads.size(); w += 32) {
    const std::size_t end = std::min(threads.size(), w + 32);
    std::size_t most = 0;
    for (std::size_t l = w; l < end; ++l)
      most = std::max(most, threads[l].loads.size());
    for (std::size_t k = 0; k < most; ++k) {
      std::set<std::uint64_t> sectors;
      for (std::size_t l = w; l < end; ++l)
        if (k < threads[l].loads.size())
          for (std::uint64_t s = threads[l].loads[k].first; s <= threads[l].loads[k].second; ++s)
            sectors.insert(s);
      ++stats.requests;
      stats.sectors += sectors.size();
    }
  }
}

} // namespace

void set_global_check(GlobalCheck check) { g_global_check = check; }

std::string launch(const std::string &text, const std::string &name, unsigned grid, unsigned block,
                   void **args) {
  return launch(text, name, grid, block, args, nullptr);
}

std::string launch(const std::string &text, const std::string &name, unsigned grid, unsigned block,
                   void **args, LaunchStats *stats, unsigned dynamic_shared) {
  try {
    std::shared_ptr<const Entry> e;
    {
      std::lock_guard lock(g_mu);
      auto key = std::make_pair(std::hash<std::string>()(text), name);
      auto &slot = g_entries[key];
      if (!slot) slot = std::make_shared<const Entry>(Parser().parse(text, name));
      e = slot;
    }
    std::vector<GlobalAccess> accesses;
    for (unsigned b = 0; b < grid; ++b) {
      const auto shared = static_cast<std::size_t>(e->shared_bytes) + dynamic_shared;
      // Registers, shared and local memory start as garbage on a GPU. Here they start as all
      // ones: NaN in every float width, -1 in every integer, true as a predicate. A kernel that
      // uses a value it never set then gives wrong bits, where zeros would pass for the
      // identity of a sum or an any.
      Block blk{*e, args, b, grid, block, std::vector<unsigned char>(shared, 0xff), {}, 0};
      blk.threads.resize(block);
      blk.count_loads = stats != nullptr;
      blk.global_accesses = &accesses;
      for (Thread &t : blk.threads) {
        t.r.assign(static_cast<std::size_t>(e->nregs), ~std::uint64_t{0});
        t.local.assign(static_cast<std::size_t>(e->local_bytes) + 16, 0xff);
      }
      std::string why = blk.go();
      if (!why.empty()) return name + ": " + why;
      if (stats) {
        count_requests(blk.threads, *stats);
        stats->shuffles += blk.shuffles;
      }
    }
    if (std::string why = global_race(accesses, block); !why.empty()) return name + ": " + why;
    return {};
  } catch (const Fail &f) {
    return name + ": " + f.what();
  } catch (const std::exception &x) {
    return name + ": " + x.what();
  }
}

} // namespace xpr::ptxsim
