// compile() and expressionInfo(): the pattern-compiler entry points.
#pragma once

#include <napi.h>

namespace kdlp {

// compile(expressions: string[], flags: number[], ids: number[], mode: 'block'|'stream') -> Database
Napi::Value Compile(const Napi::CallbackInfo& info);

// compileAsync(...same arguments) -> Promise<Database>: compiles on the libuv thread pool.
Napi::Value CompileAsync(const Napi::CallbackInfo& info);

// expressionInfo(expression: string, flags: number) -> { minWidth, maxWidth, ... }
Napi::Value ExpressionInfo(const Napi::CallbackInfo& info);

}  // namespace kdlp
