// Error objects thrown by the addon. Every error carries a stable `code`
// string so the TypeScript layer (and callers) can branch without parsing
// messages; library messages never include scanned data.
#pragma once

#include <hs.h>
#include <napi.h>

#include <string>

namespace kdlp {

constexpr const char* kCodeCompile = "KDLP_HS_COMPILE";
constexpr const char* kCodeHs = "KDLP_HS_ERROR";
constexpr const char* kCodeAlloc = "KDLP_HS_NOMEM";
constexpr const char* kCodeStreamClosed = "KDLP_HS_STREAM_CLOSED";
constexpr const char* kCodeStreamTerminated = "KDLP_HS_STREAM_TERMINATED";
constexpr const char* kCodeOriginalDst = "KDLP_ORIGINAL_DST";

// Symbolic name of an hs_error_t (e.g. "HS_INVALID").
const char* HsErrorName(hs_error_t rc);

// Error for a failed runtime call: code KDLP_HS_ERROR, `hsError` (number) and
// `hsErrorName`. `hint` is appended to the message when non-empty.
Napi::Error HsRuntimeError(Napi::Env env, const char* operation, hs_error_t rc,
                           const std::string& hint = std::string());

// Error for a failed compile / expression_info: code KDLP_HS_COMPILE,
// `expressionIndex` (-1 when not specific to one pattern) and the library's
// message. Takes ownership of `compileError` and frees it.
Napi::Error HsCompileError(Napi::Env env, hs_error_t rc, hs_compile_error_t* compileError);

// Plain Error with a `code` property.
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message);

}  // namespace kdlp
