#include "compile.h"

#include <hs.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "database.h"
#include "errors.h"

namespace kdlp {

namespace {

Napi::Array RequireArray(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(name) + " must be an array");
  return value.As<Napi::Array>();
}

// hs.h takes NUL-terminated C strings: an embedded NUL would silently cut the
// pattern short, so refuse it (write \x00 in the regex instead).
std::string RequirePattern(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsString()) throw Napi::TypeError::New(env, name + " must be a string");
  std::string pattern = value.As<Napi::String>().Utf8Value();
  if (pattern.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, name + " contains a NUL character; write \\x00 instead");
  }
  return pattern;
}

// Inputs of one hs_compile_multi call, copied out of JS values so the
// compile can run on a worker thread without touching JS.
struct CompileRequest {
  std::vector<std::string> patterns;
  std::vector<unsigned int> flags;
  std::vector<unsigned int> ids;
  unsigned int mode = HS_MODE_BLOCK;
  bool streaming = false;
};

CompileRequest ReadCompileRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array expressions = RequireArray(env, info[0], "expressions");
  Napi::Array flagsArray = RequireArray(env, info[1], "flags");
  Napi::Array idsArray = RequireArray(env, info[2], "ids");
  const uint32_t count = expressions.Length();
  if (flagsArray.Length() != count || idsArray.Length() != count) {
    throw Napi::TypeError::New(env, "expressions, flags and ids must have the same length");
  }
  if (!info[3].IsString()) throw Napi::TypeError::New(env, "mode must be 'block' or 'stream'");
  const std::string modeName = info[3].As<Napi::String>().Utf8Value();
  if (modeName != "block" && modeName != "stream") {
    throw Napi::TypeError::New(env, "mode must be 'block' or 'stream'");
  }
  CompileRequest request;
  request.streaming = modeName == "stream";
  request.patterns.reserve(count);
  bool anySom = false;
  for (uint32_t i = 0; i < count; i++) {
    const std::string index = "[" + std::to_string(i) + "]";
    request.patterns.push_back(RequirePattern(env, expressions.Get(i), "expressions" + index));
    request.flags.push_back(RequireUint32(env, flagsArray.Get(i), "flags" + index));
    request.ids.push_back(RequireUint32(env, idsArray.Get(i), "ids" + index));
    anySom = anySom || (request.flags.back() & HS_FLAG_SOM_LEFTMOST) != 0;
  }
  // Streams with start-of-match need a SOM horizon; LARGE keeps exact
  // start offsets for any match length at the cost of stream state.
  request.mode = HS_MODE_BLOCK;
  if (request.streaming) request.mode = HS_MODE_STREAM | (anySom ? HS_MODE_SOM_HORIZON_LARGE : 0);
  return request;
}

hs_error_t RunCompile(const CompileRequest& request, hs_database_t** database, hs_compile_error_t** compileError) {
  std::vector<const char*> pointers;
  pointers.reserve(request.patterns.size());
  for (const std::string& pattern : request.patterns) pointers.push_back(pattern.c_str());
  return hs_compile_multi(pointers.data(), request.flags.data(), request.ids.data(),
                          static_cast<unsigned int>(request.patterns.size()), request.mode, nullptr, database,
                          compileError);
}

// Compiling a large detector set takes seconds; doing it on the libuv pool
// keeps a proxy serving traffic while a new profile compiles.
class CompileWorker : public Napi::AsyncWorker {
 public:
  CompileWorker(Napi::Env env, CompileRequest request)
      : Napi::AsyncWorker(env), request_(std::move(request)), deferred_(Napi::Promise::Deferred::New(env)) {}

  ~CompileWorker() override {
    // Only reached with a result still owned when the worker is torn down early.
    if (database_ != nullptr) hs_free_database(database_);
    if (compileError_ != nullptr) hs_free_compile_error(compileError_);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { rc_ = RunCompile(request_, &database_, &compileError_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ != HS_SUCCESS) {
      hs_compile_error_t* error = compileError_;
      compileError_ = nullptr;
      deferred_.Reject(HsCompileError(env, rc_, error).Value());
      return;
    }
    hs_database_t* database = database_;
    database_ = nullptr;
    try {
      deferred_.Resolve(Database::Create(env, database, request_.streaming));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  CompileRequest request_;
  Napi::Promise::Deferred deferred_;
  hs_database_t* database_ = nullptr;
  hs_compile_error_t* compileError_ = nullptr;
  hs_error_t rc_ = HS_SUCCESS;
};

}  // namespace

Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CompileRequest request = ReadCompileRequest(info);
  hs_database_t* database = nullptr;
  hs_compile_error_t* compileError = nullptr;
  hs_error_t rc = RunCompile(request, &database, &compileError);
  if (rc != HS_SUCCESS) throw HsCompileError(env, rc, compileError);
  return Database::Create(env, database, request.streaming);
}

Napi::Value CompileAsync(const Napi::CallbackInfo& info) {
  CompileRequest request = ReadCompileRequest(info);
  auto* worker = new CompileWorker(info.Env(), std::move(request));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ExpressionInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string pattern = RequirePattern(env, info[0], "expression");
  unsigned int flags = RequireUint32(env, info[1], "flags");

  hs_expr_info_t* exprInfo = nullptr;
  hs_compile_error_t* compileError = nullptr;
  hs_error_t rc = hs_expression_info(pattern.c_str(), flags, &exprInfo, &compileError);
  if (rc != HS_SUCCESS) throw HsCompileError(env, rc, compileError);
  // Copy then free (misc allocator, left at its malloc default) before any JS call can throw.
  const hs_expr_info_t copy = *exprInfo;
  std::free(exprInfo);

  Napi::Object result = Napi::Object::New(env);
  result.Set("minWidth", Napi::Number::New(env, copy.min_width));
  result.Set("maxWidth", Napi::Number::New(env, copy.max_width == UINT_MAX ? -1.0 : static_cast<double>(copy.max_width)));
  result.Set("unorderedMatches", Napi::Boolean::New(env, copy.unordered_matches != 0));
  result.Set("matchesAtEod", Napi::Boolean::New(env, copy.matches_at_eod != 0));
  result.Set("matchesOnlyAtEod", Napi::Boolean::New(env, copy.matches_only_at_eod != 0));
  return result;
}

}  // namespace kdlp
