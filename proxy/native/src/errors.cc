#include "errors.h"

namespace kdlp {

const char* HsErrorName(hs_error_t rc) {
  switch (rc) {
    case HS_SUCCESS: return "HS_SUCCESS";
    case HS_INVALID: return "HS_INVALID";
    case HS_NOMEM: return "HS_NOMEM";
    case HS_SCAN_TERMINATED: return "HS_SCAN_TERMINATED";
    case HS_COMPILER_ERROR: return "HS_COMPILER_ERROR";
    case HS_DB_VERSION_ERROR: return "HS_DB_VERSION_ERROR";
    case HS_DB_PLATFORM_ERROR: return "HS_DB_PLATFORM_ERROR";
    case HS_DB_MODE_ERROR: return "HS_DB_MODE_ERROR";
    case HS_BAD_ALIGN: return "HS_BAD_ALIGN";
    case HS_BAD_ALLOC: return "HS_BAD_ALLOC";
    case HS_SCRATCH_IN_USE: return "HS_SCRATCH_IN_USE";
    case HS_ARCH_ERROR: return "HS_ARCH_ERROR";
#ifdef HS_INSUFFICIENT_SPACE
    case HS_INSUFFICIENT_SPACE: return "HS_INSUFFICIENT_SPACE";
#endif
#ifdef HS_UNKNOWN_ERROR
    case HS_UNKNOWN_ERROR: return "HS_UNKNOWN_ERROR";
#endif
    default: return "HS_UNRECOGNISED_ERROR";
  }
}

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error HsRuntimeError(Napi::Env env, const char* operation, hs_error_t rc,
                           const std::string& hint) {
  std::string message = std::string(operation) + " failed: " + HsErrorName(rc);
  if (!hint.empty()) message += " (" + hint + ")";
  Napi::Error error = CodedError(env, kCodeHs, message);
  error.Set("hsError", Napi::Number::New(env, rc));
  error.Set("hsErrorName", Napi::String::New(env, HsErrorName(rc)));
  return error;
}

Napi::Error HsCompileError(Napi::Env env, hs_error_t rc, hs_compile_error_t* compileError) {
  std::string message = "pattern compilation failed";
  int expressionIndex = -1;
  // Copy out and free before touching JS, so a throwing Set() cannot leak it.
  if (compileError != nullptr) {
    if (compileError->message != nullptr) message = compileError->message;
    expressionIndex = compileError->expression;
    hs_free_compile_error(compileError);
  }
  Napi::Error error = CodedError(env, kCodeCompile, message);
  error.Set("expressionIndex", Napi::Number::New(env, expressionIndex < 0 ? -1 : expressionIndex));
  error.Set("hsMessage", Napi::String::New(env, message));
  error.Set("hsError", Napi::Number::New(env, rc));
  return error;
}

}  // namespace kdlp
